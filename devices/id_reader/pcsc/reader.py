"""PcscReader: documents on a PC/SC reader, through pcscd and pyscard (`pcsc`).

Every call asks pcscd afresh (a new context, the reader found again by name), so a reader
unplugged and plugged back, or pcscd restarted, is picked up without restarting the kiosk.
T=0 and T=1 cards both work (apdu.exchange follows 61xx and 6Cxx). As with the SAM reader, a
card is read once and must leave the reader before it is read again.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from devices.config import BuildContext
from devices.id_reader.pcsc import emv
from devices.id_reader.pcsc.apdu import CardError, Transmit, exchange, select_by_name
from devices.id_reader.pcsc.config import PcscConfig
from devices.id_reader.pcsc.icao9303 import bac
from devices.id_reader.pcsc.icao9303.mrz import MrzKey
from devices.id_reader.pcsc.icao9303.passport import PassportError, SmError, read_passport
from devices.id_reader.pcsc.tlv import TLVError
from devices.id_reader.protocol import ReadFailure, ReadResult
from devices.status import DeviceStatus, LinkReason

log = logging.getLogger(__name__)


class _NoReader(Exception):
    pass


GET_UID = bytes.fromhex("FFCA000000")  # PC/SC part 3: the contactless card's UID


class _MuteCard(Exception):
    """A card is there but does not answer (pulled mid-read and left, upside down, broken)."""


class PcscReader:
    def __init__(self, reader: str | None = None,
                 documents: tuple[str, ...] = ("bank_card",),
                 read_card_already_there: bool = False) -> None:
        self._wanted = reader
        self._documents = documents
        # As the SAM reader: a card there at start is not read (but a technician's read-id).
        self._armed = read_card_already_there
        self._access_key: MrzKey | None = None

    def set_access_key(self, key: MrzKey | None) -> None:
        """The MRZ details a passport's chip asks for (read off the data page or typed);
        None forgets them (the session ends)."""
        self._access_key = key

    @classmethod
    def from_config(cls, config: PcscConfig, ctx: BuildContext) -> PcscReader:
        return cls(config.reader, tuple(config.documents))

    def _reader(self) -> Any:
        from smartcard.Exceptions import SmartcardException
        from smartcard.pcsc.PCSCExceptions import BaseSCardException
        from smartcard.System import readers

        try:
            found = readers()
        except (SmartcardException, BaseSCardException) as e:
            raise _NoReader(f"pcscd does not answer: {e}") from e
        for r in found:
            if self._wanted is None or self._wanted in str(r):
                return r
        names = ", ".join(str(r) for r in found) or "none"
        raise _NoReader(f"no reader named {self._wanted!r} (pcscd has: {names})")

    def _connect(self) -> Any | None:
        """A connection to the card on the reader, or None when there is none."""
        from smartcard.CardConnection import CardConnection
        from smartcard.Exceptions import CardConnectionException, NoCardException

        connection = self._reader().createConnection()
        try:
            connection.connect(CardConnection.T0_protocol | CardConnection.T1_protocol)
        except NoCardException:
            return None
        except CardConnectionException as e:
            raise _MuteCard(str(e)) from e
        return connection

    # ---------------------------------------------------------------- IdReader
    def status(self) -> DeviceStatus:
        try:
            self._reader()
        except _NoReader as e:
            return DeviceStatus.offline(LinkReason.NOT_CONNECTED, str(e))
        return DeviceStatus.ready()

    def self_test(self) -> DeviceStatus:
        return self.status()

    def read(self) -> ReadResult:
        from smartcard.Exceptions import CardConnectionException

        try:
            connection = self._connect()
        except _NoReader:
            return ReadResult(failure=ReadFailure.DEVICE_FAULT)
        except _MuteCard as e:
            log.info("PC/SC: a card that does not answer: %s", e)
            return ReadResult(failure=ReadFailure.UNREADABLE)
        if connection is None:
            self._armed = True
            return ReadResult(failure=ReadFailure.NO_CARD)
        try:
            if not self._armed:
                return ReadResult(failure=ReadFailure.NO_CARD)  # take it away first
            if "passport" in self._documents and exchange(
                    connection.transmit, select_by_name(bac.EMRTD_AID, p2=0x0C)).ok:
                return self._passport(connection.transmit)
            if "bank_card" not in self._documents:
                return ReadResult(failure=ReadFailure.WRONG_CARD)
            card = emv.read_bank_card(connection.transmit)
        except CardConnectionException:
            return ReadResult(failure=ReadFailure.CARD_PULLED)
        except emv.NotABankCard as e:
            log.info("PC/SC: %s", e)
            return ReadResult(failure=ReadFailure.WRONG_CARD)
        except (TLVError, CardError) as e:
            log.warning("PC/SC: the card's answers do not parse: %s", e)
            return ReadResult(failure=ReadFailure.UNREADABLE)
        finally:
            _disconnect(connection)
        self._armed = False
        return ReadResult(identity=emv.as_identity(card))

    def _passport(self, transmit: Transmit) -> ReadResult:
        if self._access_key is None:
            return ReadResult(failure=ReadFailure.ACCESS_KEY_NEEDED)
        try:
            identity = read_passport(transmit, self._access_key)
        except bac.AccessDenied as e:
            log.info("PC/SC: passport refused the MRZ key: %s", e)
            return ReadResult(failure=ReadFailure.ACCESS_DENIED)
        except (PassportError, SmError) as e:
            log.warning("PC/SC: passport not read: %s", e)
            return ReadResult(failure=ReadFailure.UNREADABLE)
        self._armed = False
        return ReadResult(identity=identity)

    def read_badge(self) -> bytes | None:
        """A staff badge's UID (PC/SC's GET DATA, FF CA 00 00 00), or None: no card, a card
        that is no badge, or no reader. Never a citizen's document: the UID is all it asks."""
        from smartcard.Exceptions import CardConnectionException

        try:
            connection = self._connect()
        except (_NoReader, _MuteCard):
            return None
        if connection is None:
            return None
        try:
            data, sw1, sw2 = connection.transmit(list(GET_UID))
        except CardConnectionException:
            return None
        finally:
            _disconnect(connection)
        uid = bytes(data)
        return uid if (sw1, sw2) == (0x90, 0x00) and 4 <= len(uid) <= 10 else None

    def stop(self) -> None:
        """Nothing held between calls: every read connects and lets go."""

    def card_present(self) -> bool:
        try:
            connection = self._connect()
        except _NoReader:
            return False
        except _MuteCard:
            return True  # there, if silent: still to be taken away
        if connection is None:
            return False
        _disconnect(connection)
        return True


def _disconnect(connection: Any) -> None:
    from smartcard.Exceptions import CardConnectionException

    with contextlib.suppress(CardConnectionException):  # the card (or pcscd) is gone already
        connection.disconnect()
    with contextlib.suppress(CardConnectionException):
        connection.release()  # its pcscd context: one per call, not one left per read
