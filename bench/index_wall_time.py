"""(c) Wall time to index a 10,000-line JSONL file whose images come from ImageHost on loopback.

The images (factory.product_image, one distinct photo per line) are rendered before the clock starts and
served as plain files, so the image host costs only socket work while the emulator indexes. The clock runs
from the index request (v2 "index.create", multipart format=jsonl + file) until "index.get" reports a final
status (polled every --poll seconds; target <= 60 s). The emulator's own CPU time over the job is reported
(share of one core, and per document), to tell CPU-bound from waiting; per document it hardly depends on
what else the machine runs.

    PYTHONPATH=src python bench/index_wall_time.py [--lines 10000] [--timeout 600]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import common

from fashion_conformance import clients, contracts, embedded
from fashion_conformance.imagehost import factory
from fashion_conformance.imagehost.server import ImageHost

API = "v2"
SERVICE = "bench-index"
FINAL = ("finished", "failed")


def render(seed: int) -> bytes:
    return factory.product_image(seed)


def index_file(urls: list[str]) -> bytes:
    """A JSONL index file: one enabled product per URL, fields in the documented order."""
    names = contracts.limit(API, "index.fields").value
    enable = contracts.limit(API, "index.product_statuses").value[0]
    lines = []
    for i, url in enumerate(urls):
        values = [f"p{i:05d}", enable, f"bench product {i}", f"c1-{i % 8}", f"c2-{i % 40}", f"c3-{i % 200}", url,
                  f"s1-{i % 20}", f"s2-{i % 1000}"]
        lines.append(json.dumps(dict(zip(names, values, strict=True)), ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def run(lines: int, distinct: int, poll_s: float, timeout_s: float) -> dict:
    t0 = time.perf_counter()
    with ProcessPoolExecutor() as pool:
        images = list(pool.map(render, range(distinct), chunksize=64))
    render_s = time.perf_counter() - t0
    work = Path(tempfile.mkdtemp(prefix="bench-index-"))
    with ImageHost() as host:
        for seed, data in enumerate(images):
            host.put(f"p{seed}.jpg", data)
        # Lines beyond `distinct` reuse an image under a distinct URL (the host ignores unknown parameters).
        urls = [host.url(f"p{i % distinct}.jpg") + (f"?copy={i}" if i >= distinct else "") for i in range(lines)]
        body = index_file(urls)
        emu = embedded.start(work / "data", allow_private_image_hosts=True)
        try:
            v2 = clients.for_target(API, emu.targets()[API], timeout_s=60)
            created = v2.call("service.create", json={"serviceName": SERVICE})
            if created.header.get("isSuccessful") is not True:
                raise RuntimeError("service.create failed:\n" + created.describe())
            host.reset_counters()
            cpu0 = common.process_cpu_s(emu.process.pid)
            t_start = time.monotonic()
            submitted = v2.call("index.create", path={"serviceName": SERVICE}, data={"format": "jsonl"},
                                files={"file": ("bench.jsonl", body, "application/x-ndjson")})
            t_accepted = time.monotonic()
            if submitted.header.get("isSuccessful") is not True:
                raise RuntimeError("index.create failed:\n" + submitted.describe())
            index_id = submitted.data["indexId"]
            detail: dict = {}
            while time.monotonic() - t_start < timeout_s:
                got = v2.call("index.get", path={"serviceName": SERVICE, "indexId": index_id})
                detail = (got.data or {}).get("items", [{}])[0]
                if detail.get("status") in FINAL:
                    break
                time.sleep(poll_s)
            wall = time.monotonic() - t_start
            cpu = common.process_cpu_s(emu.process.pid) - cpu0
            fetched = len(host.requests)
            v2.close()
        finally:
            emu.stop()
    counts = {k: detail.get(k) for k in ("addedCount", "failedCount", "exceededCount", "updatedCount",
                                          "deletedCount", "totalCount")}
    return {
        "lines": lines, "distinct_images": distinct, "file_bytes": len(body),
        "mean_image_bytes": sum(map(len, images)) / len(images), "render_before_clock_s": render_s,
        "status": detail.get("status"), "timed_out": detail.get("status") not in FINAL,
        "wall_s": wall, "accept_s": t_accepted - t_start, "docs_per_s": lines / wall,
        "job_times": {k: detail.get(k) for k in ("requestedTime", "startTime", "finishTime")},
        "counts": counts, "image_requests": fetched,
        "emulator_cpu_s": cpu, "emulator_cpu_share": cpu / wall, "emulator_cpu_ms_per_doc": cpu / lines * 1e3,
        "poll_s": poll_s,
        "target": "wall <= 60 s",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--distinct", type=int, help="distinct images (default: one per line)")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between index.get polls")
    parser.add_argument("--timeout", type=float, default=600, help="give up waiting after this many seconds")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.lines, min(args.distinct or args.lines, args.lines), args.poll, args.timeout)
    print(f"{args.lines} lines: {figures['status']} in {figures['wall_s']:.1f} s ({figures['docs_per_s']:.0f} docs/s), "
          f"emulator CPU {figures['emulator_cpu_share']:.0%} of one core, {figures['emulator_cpu_ms_per_doc']:.1f} ms per "
          f"document; counts {figures['counts']} (target <= 60 s)")
    common.emit("index_wall_time", figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
