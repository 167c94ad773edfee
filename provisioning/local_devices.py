"""Devices the machine itself can list: PC/SC readers (through pcscd), USB printers (pyusb),
cameras (/dev/video*, read through OpenCV) and CUPS queues (pycups).

Each is only listed or read, never driven: a reader's card is not touched, a USB printer's
interface is not claimed (its binding test does that, through its worker), a CUPS queue gets
no job. A missing service or library is a note that says what to do, never a crash.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from provisioning.findings import Finding, found, note

PRINTER_CLASS = 7  # USB interface class of printers
# Makers of receipt printers whose USB printers may present a vendor-class interface only.
RECEIPT_PRINTER_VENDORS = {
    0x04B8: "Epson", 0x0519: "Star Micronics", 0x1504: "Bixolon", 0x1D90: "Citizen",
    0x154F: "SNBC", 0x0DD4: "Custom", 0x0416: "Winbond (in many Chinese POS printers)",
    0x0FE6: "ICS (in many Chinese POS printers)",
}


# ---------------------------------------------------------------- PC/SC
def pcsc_readers() -> list[Finding]:
    try:
        import smartcard.System
        from smartcard.pcsc.PCSCExceptions import BaseSCardException, EstablishContextException
    except ImportError as e:
        return [note("id_reader", "pcsc", f"pyscard is not installed ({e})")]
    try:
        names = [str(r) for r in smartcard.System.readers()]
    except EstablishContextException:
        return [note("id_reader", "pcsc", "pcscd not running: no PC/SC reader can be seen "
                     "(start it: systemctl start pcscd)")]
    except BaseSCardException as e:
        return [note("id_reader", "pcsc", f"pcscd does not list its readers: {e}")]
    if not names:
        return [note("id_reader", "pcsc", "pcscd is running, but no PC/SC reader is plugged in")]
    out = []
    for name in names:
        virtual = " (a virtual vpcd reader: for tests only, never on a terminal)" \
            if name.startswith("Virtual PCD") else ""
        out.append(found("id_reader", {"adapter": "pcsc", "reader": name}, name,
                         "PC/SC reader; set documents (passport, bank_card, staff_badge)"
                         + virtual))
    return out


# ---------------------------------------------------------------- USB
def usb_printers(backend: Any = None) -> list[Finding]:
    """USB devices with a printer-class interface, or from a receipt printer maker."""
    import usb.core

    try:
        devices = list(usb.core.find(find_all=True, backend=backend) or ())
    except usb.core.NoBackendError:
        return [note("printer", "usb", "no USB library (libusb-1.0) on this machine: USB "
                     "printers cannot be seen (install libusb-1.0-0)")]
    except usb.core.USBError as e:
        return [note("printer", "usb", f"USB devices cannot be listed: {e}")]
    out: list[Finding] = []
    for device in devices:
        vendor, product = int(device.idVendor), int(device.idProduct)
        where = f"usb {vendor:04x}:{product:04x} (bus {device.bus} address {device.address})"
        try:
            printer_class = any(i.bInterfaceClass == PRINTER_CLASS for c in device for i in c)
        except (usb.core.USBError, NotImplementedError) as e:
            if vendor in RECEIPT_PRINTER_VENDORS:
                out.append(note("printer", where, f"its descriptors cannot be read: {e}"))
            continue
        maker = RECEIPT_PRINTER_VENDORS.get(vendor)
        if not printer_class and maker is None:
            continue
        what = "a USB printer-class interface" if printer_class else "no printer-class interface"
        name = _usb_name(device)
        settings = {"adapter": "escpos_usb", "usb_vendor": vendor, "usb_product": product}
        out.append(found("printer", settings, where,
                         f"{name or maker or 'USB printer'}: {what}"
                         + (f", maker {maker}" if maker and name else "")
                         + " (an A4 printer here belongs to CUPS)"))
    if not out:
        return [note("printer", "usb", f"no USB printer among {len(devices)} USB devices")]
    return out


def _usb_name(device: Any) -> str:
    """Maker and product strings, when the device can be asked without privileges."""
    with contextlib.suppress(Exception):  # no permission, no string descriptors, no backend
        return " ".join(s for s in (device.manufacturer, device.product) if s).strip()
    return ""


# ---------------------------------------------------------------- cameras
def cameras(dev: Path = Path("/dev")) -> list[Finding]:
    """Every /dev/video* node that gives a frame through OpenCV."""
    nodes = sorted(dev.glob("video*"), key=lambda p: [int(t) if t.isdigit() else t
                                                      for t in re.split(r"(\d+)", p.name)])
    if not nodes:
        return [note("camera", str(dev / "video*"), "none found")]
    from devices.camera.opencv.frames import FrameSource

    out = []
    for node in nodes:
        source = FrameSource(str(node))
        try:
            frame = source.read()
        finally:
            source.close()
        if frame is None:
            out.append(note("camera", str(node), "gives no frames (in use, or the metadata "
                            "node of the camera before it)"))
        else:
            height, width = frame.shape[:2]
            out.append(found("camera", {"adapter": "opencv", "source": str(node)}, str(node),
                             f"camera, {width}x{height} frames"))
    return out


# ---------------------------------------------------------------- CUPS
CUPS_STATES = {3: "idle", 4: "printing", 5: "stopped"}


def cups_queues(server: str | None = None, port: int = 631) -> list[Finding]:
    """The queues of this machine's CUPS, or of `server` (a host, or its socket's path)."""
    where = f"CUPS at {server}" if server else "CUPS on this machine"
    try:
        import cups
    except ImportError as e:
        return [note("certificate_printer", where, f"pycups is not installed ({e})")]
    try:
        conn = cups.Connection() if server is None else cups.Connection(host=server, port=port)
        printers: dict[str, Any] = conn.getPrinters()
    except (RuntimeError, cups.IPPError, cups.HTTPError) as e:
        return [note("certificate_printer", where, f"no cupsd answers ({e}): install and "
                     "start cups, or give --cups-server")]
    if not printers:
        return [note("certificate_printer", where, "no queues: add the A4 printer's (lpadmin)")]
    out = []
    for queue, attrs in sorted(printers.items()):
        settings: dict[str, Any] = {"adapter": "cups", "queue": queue}
        if server is not None:
            settings["server"] = server
            if port != 631 and not server.startswith("/"):
                settings["server_port"] = port
        model = attrs.get("printer-make-and-model") or attrs.get("printer-info") or "a queue"
        state = CUPS_STATES.get(int(attrs.get("printer-state", 0)), "state unknown")
        out.append(found("certificate_printer", settings, f"{where}: {queue}",
                         f"{model}, {state}"))
    return out
