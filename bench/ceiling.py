"""The stack's ceiling: a bare Starlette route returning a fixed JSON body, nothing else.

Served by the same uvicorn as wbs-sync; `bench/http.py` starts it with the body to return.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ.get("WBS_BENCH_CEILING_BODY", "/dev/null")).read_bytes()


async def answer(_request: Request) -> Response:
    return Response(BODY, media_type="application/json")


async def healthz(_request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(routes=[Route("/healthz", healthz), Route("/{path:path}", answer)])
