"""Staff on the terminal: sign-in, what each role may do, staff sessions and their audit."""

from kiosk.staff.desk import StaffDesk, StaffMember, StaffSignIn

__all__ = ["StaffDesk", "StaffMember", "StaffSignIn"]
