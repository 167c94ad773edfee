"""A staff badge in vpcd's virtual reader: a contactless card that answers PC/SC's GET DATA
for its UID (FF CA 00 00 00, answered by the reader for a real card) and nothing else."""

from __future__ import annotations

from devices.id_reader.pcsc.cards.vpcd import VirtualCard

GET_UID = bytes.fromhex("FFCA000000")


class VirtualStaffBadge(VirtualCard):
    def __init__(self, uid: bytes) -> None:
        super().__init__()
        self.uid = uid

    def respond(self, apdu: bytes) -> bytes:
        if apdu == GET_UID:
            return self.uid + b"\x90\x00"
        return b"\x6d\x00"  # instruction not supported
