"""The screens, by name (the names `kiosk screenshot --screen` and navigation use)."""

from __future__ import annotations

from screens.attract import AttractScreen
from screens.base import KioskScreen
from screens.confirm import ConfirmScreen
from screens.consent import ConsentScreen
from screens.form import FormScreen
from screens.goodbye import GoodbyeScreen
from screens.home import HomeScreen
from screens.identify import IdentifyScreen
from screens.out_of_service import OutOfServiceScreen
from screens.rate import RateScreen
from screens.result import ResultScreen
from screens.services import ServicesScreen
from screens.staff.console import StaffConsoleScreen
from screens.staff.sign_in import StaffSignInScreen

SCREEN_CLASSES: dict[str, type[KioskScreen]] = {
    "attract": AttractScreen,
    "home": HomeScreen,
    "services": ServicesScreen,
    "identify": IdentifyScreen,
    "consent": ConsentScreen,
    "form": FormScreen,
    "confirm": ConfirmScreen,
    "result": ResultScreen,
    "rate": RateScreen,
    "goodbye": GoodbyeScreen,
    "out_of_service": OutOfServiceScreen,
    "staff_sign_in": StaffSignInScreen,
    "staff_console": StaffConsoleScreen,
}
