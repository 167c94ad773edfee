"""A receipt through the ESC/POS adapter to its wire peer on loopback TCP: the job built for
the model, the status checked, the job sent and waited for until the printer says it went
through; next to the same bytes sent on a bare socket and waited for the same way (the
difference is the adapter: python-escpos's layout and the status exchanges around the job).
Issue 7 asks: build + send <= 100 ms, a status round trip <= 20 ms. Runs interleaved."""

from __future__ import annotations

import statistics
import time


def measure(runs: int) -> dict[str, float]:
    from devices.links import TcpLink
    from devices.printer.escpos.peer import EscposPeer
    from devices.printer.escpos.printer import EscposPrinter
    from devices.printer.escpos.status import JOB_DONE_REQUEST
    from devices.printer.protocol import Receipt

    receipt = Receipt("申请回执", ("事项: 户籍证明", "办件编号: SH-PD-0001-20261201-AB12CD34",
                                  "时间: 2026-12-01 03:12", "终端: SH-PD-0001"),
                      "https://gov.example/track/SH-PD-0001-20261201-AB12CD34",
                      "请妥善保管本回执")
    peer = EscposPeer()
    try:
        link = TcpLink(peer.host, peer.port)
        printer = EscposPrinter(link)
        job = printer.job(receipt)
        assert printer.print_receipt(receipt).ok  # warm: the model's profile is loaded
        adapter, bare, status = [], [], []
        for _ in range(runs):
            start = time.perf_counter()
            link.write(job + JOB_DONE_REQUEST)  # the same bytes, on the same connection
            assert link.read(1, 5.0)
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert printer.print_receipt(receipt).ok
            adapter.append(time.perf_counter() - start)
            start = time.perf_counter()
            printer.status()
            status.append(time.perf_counter() - start)
    finally:
        peer.close()
    return {"print_s": statistics.median(adapter), "bare_s": statistics.median(bare),
            "status_s": statistics.median(status), "job_bytes": len(job)}
