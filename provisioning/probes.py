"""One question per known protocol, asked on an open link, that no device can take for a
command to act: what discovery is allowed to say to a port it does not know.

- ESC/POS printers: DLE EOT 1-4 (real-time status; nothing is printed), then ESC @, which
  empties the print buffer of whatever a wrong baud rate put there.
- The SAM reader: "SAM id" (12 FF), which reads the module's serial number and never a card.
- Lock boards: the door-sensor query of each protocol (8A/80 `80 BB 00 33`, Kerong
  `02 AA 30 03`), through the production buses' `read(items=False)`. An unlock frame is never
  built here; tests read every byte discovery writes and find none at any offset.

Each probe returns an Answer, None for silence, or raises Garbled when bytes came that are
not the protocol's (another device, or a wrong baud rate). LinkError passes through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devices.id_reader.sam import frames as sam_frames
from devices.links import Link
from devices.locker.rs485.bus import BoardSilent, Bus, Bus8a80, BusKerong
from devices.locker.rs485.config import MAP_ROWS, Rs485_8a80Config, Rs485KerongConfig
from devices.locker.rs485.frames import LOCKS_PER_BOARD, FrameError
from devices.printer.escpos.status import PrinterState, request, well_formed

ESC_INIT = b"\x1b\x40"  # ESC @: clears the print buffer, prints nothing
BOARDS_TRIED = 4  # lock-board addresses asked per protocol, from its first board's


class Garbled(Exception):
    """Bytes came, but not an answer of the protocol asked."""


@dataclass(frozen=True)
class Answer:
    kind: str
    adapter: str
    detail: str
    settings: dict[str, Any] = field(default_factory=dict)  # beyond adapter, port and baud


# ---------------------------------------------------------------- ESC/POS
def escpos_status(link: Link, timeout_s: float, adapter: str = "escpos_serial") -> Answer | None:
    """DLE EOT 1-4, each answered by one byte with the fixed bits: a receipt printer."""
    link.open()
    link.discard_input()
    answers = bytearray()
    for n in (1, 2, 3, 4):
        link.write(request(n))
        got = link.read(1, timeout_s)
        if not got:
            if answers:
                raise Garbled(f"answered DLE EOT {n - 1} but not DLE EOT {n}")
            return None
        if not well_formed(got[0]):
            raise Garbled(f"answered DLE EOT {n} with {got[0]:#04x}")
        answers.append(got[0])
    status = PrinterState.parse(bytes(answers)).device_status()
    link.write(ESC_INIT)
    said = status.state.value + (f" ({status.message})" if status.message else "")
    return Answer("printer", adapter, f"ESC/POS printer, status {said}")


# ---------------------------------------------------------------- SAM reader
def sam_status(link: Link, timeout_s: float) -> Answer | None:
    """One "SAM id" frame; any well-formed reply is a SAM reader, whatever its status."""
    link.open()
    link.discard_input()
    link.write(sam_frames.build_request(sam_frames.SAM_ID))
    header = link.read(sam_frames.HEADER, timeout_s)
    if not header:
        return None
    try:
        rest = link.read(sam_frames.frame_length(header), timeout_s)
        reply = sam_frames.parse_reply(header + rest)
    except sam_frames.FrameError as e:
        raise Garbled(str(e)) from e
    if reply.sw3 == sam_frames.Sw3.OK:
        said = f"SAM id {reply.data.hex()}" if reply.data else "SAM ok"
    else:
        said = f"the module answers status {reply.sw3:02X} (SAM not working?)"
    return Answer("id_reader", "sam_serial", f"resident ID SAM reader, {said}")


# ---------------------------------------------------------------- lock boards
def _boards(bus: Bus, first: int, boards: int) -> tuple[list[int], FrameError | None]:
    answered: list[int] = []
    garbled: FrameError | None = None
    for board in range(first, first + boards):
        try:
            bus.read(board, items=False)  # the door query only: never an unlock
        except BoardSilent:
            continue
        except FrameError as e:
            garbled = e
            continue
        answered.append(board)
    return answered, garbled


def lock_boards(adapter: str, link: Link, timeout_s: float,
                boards: int = BOARDS_TRIED) -> Answer | None:
    """The door query to each address from the protocol's first board's."""
    config = Rs485_8a80Config if adapter == "rs485_8a80" else Rs485KerongConfig
    bus: Bus = (Bus8a80 if adapter == "rs485_8a80" else BusKerong)(link, timeout_s)
    answered, garbled = _boards(bus, config.FIRST_BOARD, boards)
    if not answered:
        if garbled is not None:
            raise Garbled(str(garbled))
        return None
    protocol = "8A/80" if adapter == "rs485_8a80" else "Kerong CU"
    listed = ", ".join(str(b) for b in answered)
    detail = f"{protocol} lock board{'s' if len(answered) > 1 else ''} {listed}"
    if answered == [config.FIRST_BOARD]:
        return Answer("locker", adapter, detail + f" ({LOCKS_PER_BOARD} locks; set doors to "
                      "the compartments fitted)")
    return Answer("locker", adapter, detail + f" ({LOCKS_PER_BOARD} locks each, listed as "
                  "compartments in board order: remove those not fitted, set sizes and labels)",
                  {"compartments": compartments_of(answered)})


def compartments_of(boards: list[int]) -> list[dict[str, Any]]:
    """Every lock of `boards`, numbered in address order, in columns of 8."""
    out: list[dict[str, Any]] = []
    for board in boards:
        for lock in range(1, LOCKS_PER_BOARD + 1):
            n = len(out) + 1
            out.append({"number": n, "board": board, "lock": lock, "label": f"{n:02d}",
                        "column": (n - 1) // MAP_ROWS + 1, "row": (n - 1) % MAP_ROWS + 1})
    return out
