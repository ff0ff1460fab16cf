"""The timeline benchmark's anchor (A1): the smallest useful Starlette app, a JSON "hello".

Served by uvicorn exactly as `parvis serve` serves Parvis (one process, no access log), it
answers every path, so it receives the very same requests as Parvis.

    .venv/bin/python bench/anchor_app.py --port 8001
"""

from __future__ import annotations

import argparse

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = orjson.dumps({"hello": "world"})


async def hello(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", hello)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level=args.log_level)


if __name__ == "__main__":
    main()
