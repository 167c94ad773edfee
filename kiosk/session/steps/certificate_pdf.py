"""A certificate issued by the back office, laid out as an A4 PDF for the certificate printer:
the title, what it certifies, the holder (as the back office gives it: masked), the issuing
authority, the serial number and verification code, and a QR code of the verification address
anyone holding the paper can check. Chinese is drawn with the CJK font the kiosk ships
(fonts-wqy-microhei), embedded in the PDF. Rendered in memory; nothing is written to disk."""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from urllib.parse import quote

FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT = "KioskCJK"


@cache
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))
    return FONT


def verify_url(base_url: str, serial: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/v1/verify/{quote(serial)}?code={quote(code)}"


def render_certificate(cert: Mapping[str, object], verify_base_url: str) -> bytes:
    """The PDF of a certificate as `POST /v1/certificates` answered it."""
    import numpy as np
    import zxingcpp
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = _font()
    serial, code = str(cert["serial"]), str(cert["verification_code"])
    issued = time.strftime("%Y年%m月%d日", time.localtime(float(str(cert["issued_at"]))))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    page.setTitle(f"{cert['title_zh']} {serial}")
    width, height = A4
    page.setFont(font, 30)
    page.drawCentredString(width / 2, height - 45 * mm, str(cert["title_zh"]))
    page.setFont(font, 13)
    page.drawCentredString(width / 2, height - 55 * mm, str(cert["title_en"]))
    page.setFont(font, 15)
    lines = [f"兹证明 {cert['holder']} 的{cert['title_zh']}信息登记于 {cert['district']}。",
             f"This certifies the {str(cert['title_en']).lower()} of {cert['holder']}, "
             f"registered in {cert['district']}.",
             "", f"证书编号 Serial: {serial}", f"验证码 Verification code: {code}",
             f"出具日期 Issued: {issued}"]
    y = height - 80 * mm
    for line in lines:
        page.drawString(25 * mm, y, line)
        y -= 10 * mm
    page.drawRightString(width - 25 * mm, 70 * mm, f"出具单位 Issuer: {cert['issuer']}")
    url = verify_url(verify_base_url, serial, code)
    qr = np.asarray(zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode).to_image(scale=8))
    page.drawImage(ImageReader(Image.fromarray(qr)), 25 * mm, 25 * mm, 40 * mm, 40 * mm)
    page.setFont(font, 10)
    page.drawString(70 * mm, 40 * mm, "扫码或访问以下地址核验本证明 Scan or visit to verify:")
    page.drawString(70 * mm, 34 * mm, url)
    page.showPage()
    page.save()
    return out.getvalue()
