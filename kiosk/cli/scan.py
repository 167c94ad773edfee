"""`kiosk device scan`: decode an identity QR code and verify it offline, as a session would."""

from __future__ import annotations

import json
from pathlib import Path

from devices.camera.qr import decode_qr
from devices.id_reader.gb11643 import mask
from devices.id_reader.qr.token import TokenVerifier
from kiosk.config.profile import Profile
from kiosk.session.snapshot import mask_name

WHY = {
    "malformed": "the QR code is not an identity token",
    "forged": "the QR code's signature does not verify: it was not issued by the back office",
    "expired": "the QR code has expired: refresh it in the app",
    "not_yet_valid": "the QR code is not valid yet (is the terminal's clock right?)",
    "replayed": "the QR code was already used",
}


def run_scan(profile: Profile | None, image: Path | None, public_key: Path | None,
             as_json: bool) -> tuple[int, list[str]]:
    key_file = public_key or (Path(profile.backoffice.qr_public_key_file)
                              if profile and profile.backoffice.qr_public_key_file else None)
    if key_file is None:
        return 2, ["kiosk: no QR public key: give --public-key FILE or a profile with "
                   "backoffice.qr_public_key_file"]
    if image is None:
        return 2, ["kiosk: give --from IMAGE (reading from the camera comes with its adapter)"]
    try:
        verifier = TokenVerifier(key_file.read_bytes())
    except (OSError, ValueError) as e:
        return 2, [f"kiosk: {key_file}: not a usable public key: {e}"]
    if not image.is_file():
        return 2, [f"kiosk: {image}: no such file"]
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # the line below says it
    frame = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
    if frame is None:
        return 2, [f"kiosk: {image}: not an image that can be read"]
    codes = decode_qr(frame)
    if not codes:
        return 1, [f"kiosk: no QR code found in {image}"]
    check = verifier.verify(codes[0])
    if check.identity is None:
        assert check.refusal is not None
        return 1, [f"kiosk: {WHY[check.refusal.value]}"]
    who = check.identity
    doc = {"kind": who.kind.value, "name": mask_name(who.name), "id_number": mask(who.id_number),
           "sex": who.sex}
    return 0, [json.dumps(doc, ensure_ascii=False)] if as_json else [
        f"{k}: {v}" for k, v in doc.items() if v]
