"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections on one asyncio loop (uvloop when
installed), each sending the next GET as soon as the previous answer is complete. Raw protocol code, no HTTP
client library, so it costs far less CPU per request than the servers it measures (its own CPU use is reported).

Prints one JSON line: requests (in the measured window; all_requests includes the warm-up), seconds, rps,
status counts, latency percentiles, CPU seconds used, and the first response body (to check that the measured path is the success path).

    python bench/loadgen.py --port 8080 --path /hello [--header 'Authorization: ...'] [--connections 32]
        [--warmup 2] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import time

LENGTH_RE = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class Stats:
    def __init__(self) -> None:
        self.counting = False
        self.requests = 0
        self.all_requests = 0
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []
        self.first_body: bytes | None = None
        self.errors = 0


class Connection(asyncio.Protocol):
    """Sends `request`, reads one Content-Length-framed response, sends again; until `stopped` is set."""

    def __init__(self, request: bytes, stats: Stats, stopped: asyncio.Event, closed: asyncio.Future) -> None:
        self.request = request
        self.stats = stats
        self.stopped = stopped
        self.closed = closed
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        self.sent_at = time.perf_counter()
        assert self.transport is not None
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            match = LENGTH_RE.search(self.buffer, 0, end + 2)
            if match is None:  # every answer of both servers carries Content-Length
                self.stats.errors += 1
                self.transport.close()
                return
            total = end + 4 + int(match[1])
            if len(self.buffer) < total:
                return
            status = int(self.buffer[9:12])
            stats = self.stats
            if stats.first_body is None:
                stats.first_body = bytes(self.buffer[end + 4:total])
            stats.all_requests += 1
            if stats.counting:
                stats.requests += 1
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
                stats.latencies.append(time.perf_counter() - self.sent_at)
            del self.buffer[:total]
            if self.stopped.is_set():
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None or not self.stopped.is_set():
            self.stats.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)


async def run(host: str, port: int, request: bytes, connections: int, warmup_s: float, duration_s: float) -> dict:
    loop = asyncio.get_running_loop()
    stats = Stats()
    stopped = asyncio.Event()
    closers = [loop.create_future() for _ in range(connections)]
    for closed in closers:
        await loop.create_connection(lambda c=closed: Connection(request, stats, stopped, c), host, port)
    await asyncio.sleep(warmup_s)
    cpu0 = _cpu_s()
    stats.counting = True
    t0 = time.perf_counter()
    await asyncio.sleep(duration_s)
    stats.counting = False
    elapsed = time.perf_counter() - t0
    cpu = _cpu_s() - cpu0
    stopped.set()
    await asyncio.wait_for(asyncio.gather(*closers), timeout=30)
    lat = sorted(stats.latencies)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q / 100 * len(lat)))] * 1e3 if lat else float("nan")

    return {
        "requests": stats.requests,
        "all_requests": stats.all_requests,
        "seconds": elapsed,
        "rps": stats.requests / elapsed,
        "statuses": stats.statuses,
        "errors": stats.errors,
        "latency_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99)},
        "generator_cpu_s": cpu,
        "generator_cpu_share": cpu / elapsed,
        "first_body": (stats.first_body or b"")[:300].decode("utf-8", "replace"),
    }


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args(argv)
    head = [f"GET {args.path} HTTP/1.1", f"Host: {args.host}:{args.port}", *args.header]
    request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    result = runner(run(args.host, args.port, request, args.connections, args.warmup, args.duration))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
