"""The baseline of benchmark (a): a bare Starlette hello endpoint, served exactly as `fashion-emulator serve`
serves the emulator (uvicorn.run with the same host, log level and access-log settings).

    PYTHONPATH=src python bench/hello_app.py --port 8081
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request):
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/hello", hello)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bare Starlette hello endpoint on uvicorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="warning")  # the emulator CLI's default
    args = parser.parse_args(argv)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
