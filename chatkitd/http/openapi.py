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
# OpenAI's own Files and Vector stores paths and schemas, copied unchanged (see the file's header).
KNOWLEDGE_SPEC = Path(__file__).parent / "openapi" / "openai-knowledge.yaml"


@functools.cache
def _document() -> dict[str, Any]:
    # YAML reads unquoted dates in examples (`version: 2024-10-01`) as dates;
    # JSON has none, so they go out as the strings they were written as.
    document = yaml.safe_load(SPEC.read_text())
    knowledge = yaml.safe_load(KNOWLEDGE_SPEC.read_text())
    document["paths"].update(knowledge["paths"])
    for kind, entries in knowledge["components"].items():
        for name, entry in entries.items():
            document.setdefault("components", {}).setdefault(kind, {}).setdefault(name, entry)
    return json.loads(json.dumps(document, default=str))


async def openapi(request: Request) -> JSONResponse:
    document = dict(_document())
    document["servers"] = [{"url": str(request.base_url).rstrip("/") + "/v1"}]
    return JSONResponse(document)


routes = [Route("/v1/openapi.json", openapi, methods=["GET"])]
