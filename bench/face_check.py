"""The face check's cost: the camera adapter's gate on a 1280x720 frame (Haar detection,
sharpness), and the back office's verdict on the best frame against a photo on file, asked
over loopback HTTP through the terminal's client, next to the same comparison made in process
(the difference is what the HTTP round trip and base64 cost). Runs interleaved, medians."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path


def measure(runs: int) -> dict[str, float]:
    from backoffice.faces import FaceMatcher
    from backoffice.running import start_in_thread
    from devices.camera.opencv.face import DEFAULT_GATE, assess
    from kiosk.demo.faces import camera_scene, photo_on_file, put_photos_on_file
    from kiosk.ops.backoffice_client import BackOfficeClient

    scene = camera_scene(face=True)
    best = assess(scene, DEFAULT_GATE).best_frame
    assert best is not None
    matcher = FaceMatcher()
    on_file = matcher.embed(photo_on_file())
    with tempfile.TemporaryDirectory() as tmp:
        backoffice = start_in_thread("127.0.0.1", 0, Path(tmp))
        try:
            put_photos_on_file(backoffice, ["L898902C"])
            client = BackOfficeClient(backoffice.url, token=backoffice.token, timeout_s=30)
            gate, local, remote = [], [], []
            for _ in range(runs):
                start = time.perf_counter()
                assess(scene, DEFAULT_GATE)
                gate.append(time.perf_counter() - start)
                start = time.perf_counter()
                assert matcher.verify(on_file, best).decision.value == "match"
                local.append(time.perf_counter() - start)
                start = time.perf_counter()
                answer = client.verify_face("L898902C", best, None)
                remote.append(time.perf_counter() - start)
                assert answer is not None and answer.decision == "match"
        finally:
            backoffice.stop()
    return {"gate_s": statistics.median(gate), "verify_inproc_s": statistics.median(local),
            "verify_http_s": statistics.median(remote), "frame_bytes": len(best)}
