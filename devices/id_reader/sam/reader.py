"""ResidentIdSamReader: resident ID cards and residence permits through a SAM module on a
serial line (`sam_serial`).

One exchange is one request frame and one reply, read with a deadline; every reply's length
and checksum are checked, and every status byte is mapped to a result. Trouble is a value:
silence is `offline`/`not_answering`, a broken frame is read again once and then refused. A
card must be taken away and presented again before it can be read a second time, so a card
forgotten by the last citizen is never read for the next one.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from devices.config import BuildContext
from devices.id_reader.protocol import Photo, ReadFailure, ReadResult
from devices.id_reader.sam import frames
from devices.id_reader.sam.config import SamSerialConfig
from devices.id_reader.sam.frames import FrameError, Reply, Sw3
from devices.id_reader.sam.text import TextError, decode
from devices.links import Link, LinkError, SerialLink
from devices.status import DeviceState, DeviceStatus, LinkReason

log = logging.getLogger(__name__)


class PhotoDecoder(Protocol):
    """Turns the card's WLT-compressed photo into an image. None ships (it takes a vendor
    library); without one the photo is kept opaque, as format "wlt"."""

    def decode(self, wlt: bytes) -> Photo | None: ...


class SamReason:
    BAD_REPLY = "bad_reply"  # frames that do not parse: wiring, baud rate, noise
    SAM_FAULT = "sam_fault"  # the module says it is not working


class _Silent(Exception):
    """No complete reply within the deadline."""


class ResidentIdSamReader:
    def __init__(self, link: Link, *, reply_timeout_s: float = 1.0,
                 read_timeout_s: float = 3.0, photo_decoder: PhotoDecoder | None = None,
                 read_card_already_there: bool = False) -> None:
        self._link = link
        self._reply_timeout_s = reply_timeout_s  # find, select, SAM id
        self._read_timeout_s = read_timeout_s  # reading a card takes the card's time
        self._photo_decoder = photo_decoder
        # Armed: the next card found may be read. Disarmed after a read, until the reader
        # has been seen empty, and at start: a card already there belongs to nobody known
        # (only a technician's read-id, who just put it there, reads it at once).
        self._armed = read_card_already_there

    @classmethod
    def from_config(cls, config: SamSerialConfig, ctx: BuildContext) -> ResidentIdSamReader:
        return cls(SerialLink(config.port, baudrate=config.baudrate))

    # ---------------------------------------------------------------- one exchange
    def _exchange(self, command: tuple[int, int], timeout_s: float) -> Reply:
        """Send one request, read one reply. LinkError, _Silent or FrameError on trouble."""
        self._link.open()
        self._link.discard_input()  # a late reply to an earlier request is not this one's
        self._link.write(frames.build_request(command))
        header = self._link.read(frames.HEADER, timeout_s)
        if len(header) < frames.HEADER:
            if header:
                raise FrameError(f"a reply cut short: {header.hex(' ')}")
            raise _Silent
        rest = self._link.read(frames.frame_length(header), timeout_s)
        return frames.parse_reply(header + rest)

    def _ask(self, command: tuple[int, int], timeout_s: float) -> Reply:
        """An exchange, tried once more when the reply was garbled (a line glitch); a module
        that says it got a bad frame (10/11) is asked once more too."""
        try:
            reply = self._exchange(command, timeout_s)
        except FrameError as e:
            log.warning("SAM reader %s: %s; asking again", self._link.name, e)
            return self._exchange(command, timeout_s)
        if reply.sw3 in (Sw3.CHECKSUM_ERROR, Sw3.LENGTH_ERROR):
            return self._exchange(command, timeout_s)
        return reply

    # ---------------------------------------------------------------- IdReader
    def status(self) -> DeviceStatus:
        try:
            reply = self._ask(frames.SAM_ID, self._reply_timeout_s)
        except LinkError as e:
            return DeviceStatus.offline(LinkReason.NOT_CONNECTED, str(e))
        except _Silent:
            return DeviceStatus(DeviceState.OFFLINE, LinkReason.NOT_ANSWERING,
                                f"no reply from the SAM reader on {self._link.name}")
        except FrameError as e:
            return DeviceStatus.fault(SamReason.BAD_REPLY, f"the SAM reader answers garbage: {e}")
        if reply.sw3 != Sw3.OK:
            return DeviceStatus.fault(SamReason.SAM_FAULT,
                                      f"the SAM module answers status {reply.sw3:02X}")
        return DeviceStatus.ready()

    def self_test(self) -> DeviceStatus:
        status = self.status()
        if status.usable:
            return replace(status, message=f"SAM id {self.sam_id()}")
        return status

    def sam_id(self) -> str:
        """The SAM module's serial number, as the module gives it (hex)."""
        try:
            reply = self._ask(frames.SAM_ID, self._reply_timeout_s)
        except (LinkError, _Silent, FrameError):
            return ""
        return reply.data.hex() if reply.sw3 == Sw3.OK else ""

    def read(self) -> ReadResult:
        try:
            return self._read()
        except (LinkError, _Silent):
            return ReadResult(failure=ReadFailure.DEVICE_FAULT)
        except FrameError as e:
            log.warning("SAM reader %s: %s", self._link.name, e)
            return ReadResult(failure=ReadFailure.UNREADABLE)

    def _read(self) -> ReadResult:
        found = self._ask(frames.FIND_CARD, self._reply_timeout_s)
        if found.sw3 == Sw3.FIND_FAILED:
            self._armed = True  # the reader is empty: the next card is a new presentation
            return ReadResult(failure=ReadFailure.NO_CARD)
        if found.sw3 != Sw3.CARD_FOUND:
            return ReadResult(failure=_failure_for(found.sw3))
        if not self._armed:
            return ReadResult(failure=ReadFailure.NO_CARD)  # already read: take it away first
        selected = self._ask(frames.SELECT_CARD, self._reply_timeout_s)
        if selected.sw3 != Sw3.OK:
            # Found, then gone before it could be selected: moved away, or not an ID card.
            return ReadResult(failure=ReadFailure.CARD_PULLED
                              if selected.sw3 == Sw3.SELECT_FAILED
                              else _failure_for(selected.sw3))
        read = self._ask(frames.READ_TEXT_AND_PHOTO, self._read_timeout_s)
        if read.sw3 != Sw3.OK:
            return ReadResult(failure=ReadFailure.CARD_PULLED if read.sw3 == Sw3.READ_FAILED
                              else _failure_for(read.sw3))
        text, photo = frames.parse_text_and_photo(read.data)
        try:
            identity = decode(text)
        except TextError as e:
            log.warning("SAM reader %s: text block refused: %s", self._link.name, e)
            return ReadResult(failure=ReadFailure.UNREADABLE)
        self._armed = False
        return ReadResult(identity=replace(identity, photo=self._photo(photo)))

    def _photo(self, wlt: bytes) -> Photo | None:
        if not wlt:
            return None
        if self._photo_decoder is not None:
            decoded = self._photo_decoder.decode(wlt)
            if decoded is not None:
                return decoded
        return Photo(wlt, "wlt")

    def stop(self) -> None:
        """Nothing to stop: a SAM reader only answers when asked."""

    def release(self) -> None:
        """Let go of the serial port (the worker does, when it stops)."""
        self._link.close()

    def card_present(self) -> bool:
        try:
            return self._ask(frames.FIND_CARD, self._reply_timeout_s).sw3 == Sw3.CARD_FOUND
        except (LinkError, _Silent, FrameError):
            return False


def _failure_for(sw3: int) -> ReadFailure:
    if sw3 in (Sw3.FIND_FAILED, Sw3.SELECT_FAILED):
        return ReadFailure.NO_CARD
    if sw3 == Sw3.READ_FAILED:
        return ReadFailure.CARD_PULLED
    return ReadFailure.DEVICE_FAULT  # checksum/length errors twice, SAM fault, unknown codes

