"""The README keeps up with the protocol's request types and the demo's keywords."""

from __future__ import annotations

import typing
from pathlib import Path

from chatkit.types import NonStreamingReq, StreamingReq

from chatkitd.workflows import demo

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_request_type_is_documented():
    types = [cls.model_fields["type"].default for cls in typing.get_args(StreamingReq | NonStreamingReq)]
    assert len(types) == 16
    missing = [t for t in types if f"`{t}`" not in README]
    assert missing == []


def test_every_demo_keyword_is_documented():
    for word in demo.KEYWORDS:
        assert f"| `{word}`" in README or f"/ `{word}`" in README, word
        assert f"`{word}`" in demo.__doc__, word
        assert demo.keyword(f"please {word.upper()} now") == word
