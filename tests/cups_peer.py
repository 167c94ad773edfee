"""The CUPS wire peer for tests: a private cupsd of its own for each test (CUPS keeps a
printer's reasons across jobs and restarts, so a shared one would carry one test's trouble
into the next), and reading a printed certificate back."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from devices.certificate_printer.cups.peer import QUEUE, CupsPeer


@pytest.fixture
def cups() -> Iterator[CupsPeer]:
    """A virtual A4 printer with its tray full, behind its own cupsd."""
    with CupsPeer() as peer:
        yield peer


def read_back(pdf: bytes) -> tuple[str, str]:
    """A printed certificate's text and the address in its QR code, as anyone holding the
    paper would read them."""
    (page,) = PdfReader(io.BytesIO(pdf)).pages
    (image,) = page.images
    pixels = np.asarray(Image.open(io.BytesIO(image.data)).convert("L"))
    (code,) = zxingcpp.read_barcodes(np.pad(pixels, 20, constant_values=255))
    return page.extract_text(), code.text


__all__ = ["QUEUE", "cups", "read_back"]
