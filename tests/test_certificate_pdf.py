"""A certificate the reference back office issued, rendered to an A4 PDF and read back with
pypdf: its text (title, holder as given, serial, code, issuer), its Chinese font embedded, and
its QR code decoded from the page's image and answered as valid by the verify endpoint."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from backoffice import RunningBackOffice, start_in_thread
from kiosk.session.steps.certificate_pdf import render_certificate

pytestmark = pytest.mark.realstack
ZHANG = "310115198001010024"


@pytest.fixture
def certificate(tmp_path: Path) -> Iterator[tuple[RunningBackOffice, dict[str, Any]]]:
    bo = start_in_thread("127.0.0.1", 0, tmp_path)
    try:
        requests.post(bo.url + "/v1/residents", timeout=10,
                      json={"id_number": ZHANG, "district": "浦东新区"},
                          headers=bo.headers).raise_for_status()
        answer = requests.post(bo.url + "/v1/certificates", timeout=10, json={
            "service_id": "household_proof", "tracking_no": "SH-PD-0001-20261201-AB12CD34",
            "citizen": {"id_number": ZHANG, "name": "张三"}}, headers=bo.headers)
        answer.raise_for_status()
        yield bo, answer.json()
    finally:
        bo.stop()


def test_the_pdf_says_what_it_certifies_and_its_qr_code_verifies(
        certificate: tuple[RunningBackOffice, dict[str, Any]]) -> None:
    bo, cert = certificate
    pdf = PdfReader(io.BytesIO(render_certificate(cert, bo.url)))
    (page,) = pdf.pages
    assert abs(float(page.mediabox.width) - 595.3) < 1  # A4
    text = page.extract_text()
    for expected in ("户籍证明", "张*", "浦东新区", cert["serial"], cert["verification_code"],
                     "上海市公安局浦东分局"):
        assert expected in text, expected
    assert ZHANG not in text and "张三" not in text  # no more than the back office gave
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    descriptors = [f["/DescendantFonts"][0].get_object()["/FontDescriptor"] if
                   "/DescendantFonts" in f else f.get("/FontDescriptor") for f in fonts]
    assert any(d is not None and "/FontFile2" in d.get_object() for d in descriptors)
    (image,) = page.images
    pixels = np.asarray(Image.open(io.BytesIO(image.data)).convert("L"))
    (code,) = zxingcpp.read_barcodes(np.pad(pixels, 20, constant_values=255))
    assert code.text.startswith(bo.url + "/v1/verify/" + cert["serial"])
    assert requests.get(code.text, timeout=10).json()["valid"] is True
