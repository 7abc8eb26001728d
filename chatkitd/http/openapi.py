"""``GET /v1/openapi.json``: the official ChatKit OpenAPI document, pointed at this server."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SPEC = Path(__file__).parent / "openapi" / "chatkit-openapi.yaml"


@functools.cache
def _document() -> dict[str, Any]:
    # YAML reads unquoted dates in examples (`version: 2024-10-01`) as dates;
    # JSON has none, so they go out as the strings they were written as.
    return json.loads(json.dumps(yaml.safe_load(SPEC.read_text()), default=str))


async def openapi(request: Request) -> JSONResponse:
    document = dict(_document())
    document["servers"] = [{"url": str(request.base_url).rstrip("/") + "/v1"}]
    return JSONResponse(document)


routes = [Route("/v1/openapi.json", openapi, methods=["GET"])]
