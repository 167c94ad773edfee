"""A certificate: laid out as an A4 PDF (CJK font embedded, a QR code), next to the same
lines drawn with a built-in PDF font and no QR (the difference is the embedded font and the
code); then printed through the CUPS adapter to the virtual printer behind a private cupsd,
next to the same PDF sent with bare pycups and waited for the same way (the difference is the
adapter: the status before, following the job, purging it). Issue 7 asks: render <= 300 ms.
Runs interleaved."""

from __future__ import annotations

import io
import statistics
import time
from typing import Any

CERT = {"serial": "HP2026000042", "verification_code": "K7Q2M9XA", "title_zh": "户籍证明",
        "title_en": "Household registration proof", "issuer": "上海市公安局浦东分局",
        "holder": "张*", "district": "浦东新区", "issued_at": 1.796e9}


def _plain_page() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    page.setFont("Helvetica", 15)
    for i, value in enumerate(CERT.values()):
        page.drawString(70, 700 - 28 * i, str(value).encode("ascii", "replace").decode())
    page.showPage()
    page.save()
    return out.getvalue()


def _bare_print(conn: Any, queue: str, pdf: bytes) -> None:
    job = conn.createJob(queue, "bench", {})
    conn.startDocument(queue, job, "bench", "application/pdf", 1)
    conn.writeRequestData(pdf, len(pdf))
    conn.finishDocument(queue)
    while conn.getJobAttributes(job, requested_attributes=["job-state"])["job-state"] < 7:
        time.sleep(0.01)


def measure(runs: int) -> dict[str, float]:
    from devices.certificate_printer.cups.peer import QUEUE, CupsPeer
    from devices.certificate_printer.cups.printer import CupsCertificatePrinter
    from devices.certificate_printer.protocol import CertificateDocument
    from kiosk.session.steps.certificate_pdf import render_certificate

    pdf = render_certificate(CERT, "http://bo.test")  # warm: the font is loaded once
    render, plain, printed, bare = [], [], [], []
    with CupsPeer() as peer:
        printer = CupsCertificatePrinter(QUEUE, server=peer.socket, poll_s=0.01)
        conn = peer.connection()
        document = CertificateDocument(CERT["serial"], CERT["title_zh"], pdf)
        for _ in range(runs):
            start = time.perf_counter()
            _plain_page()
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            render_certificate(CERT, "http://bo.test")
            render.append(time.perf_counter() - start)
            start = time.perf_counter()
            _bare_print(conn, QUEUE, pdf)
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert printer.print_certificate(document).ok
            printed.append(time.perf_counter() - start)
    return {"render_s": statistics.median(render), "plain_s": statistics.median(plain),
            "print_s": statistics.median(printed), "bare_print_s": statistics.median(bare),
            "pdf_bytes": len(pdf)}
