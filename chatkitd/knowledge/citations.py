"""File citations: the answer's ``[n]`` markers become file annotations naming the file they cite.

The ``file_search`` tool numbers its hits across a turn; ``annotate`` reads
the markers in a finished assistant message, puts a ``FileSource`` annotation
(the file's name, the cited passage as its description) where each marker
ends, and removes the bare markers' noise from nothing: the text stays as the
model wrote it. A model that used the documents but cited none still shows
its sources: the files of the best hits are annotated at the end.
"""

from __future__ import annotations

import re
from typing import Any

from chatkit.types import Annotation, AssistantMessageItem, FileSource

from chatkitd.knowledge.search import Hit
from chatkitd.knowledge.tool import HITS_KEY, hits_of

MARKER = re.compile(r"\[(\d{1,3})\]")
QUOTE_CHARS = 280
UNCITED_SOURCES = 3


def _source(hit: Hit) -> FileSource:
    quote = " ".join(hit.text.split())
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 1] + "…"
    return FileSource(filename=hit.filename, title=hit.filename, description=quote, group=hit.file_id)


def annotate(item: AssistantMessageItem, request_context: Any) -> None:
    """Add file annotations for this turn's search hits cited by ``item``; then forget those hits."""
    hits = hits_of(request_context)
    if not hits:
        return
    cited_any = False
    for part in item.content:
        present = {(a.source.filename, a.index) for a in part.annotations if isinstance(a.source, FileSource)}
        for match in MARKER.finditer(part.text):
            number = int(match.group(1))
            if 1 <= number <= len(hits):
                hit = hits[number - 1]
                cited_any = True
                if (hit.filename, match.end()) not in present:
                    part.annotations.append(Annotation(source=_source(hit), index=match.end()))
    if not cited_any and item.content:
        last = item.content[-1]
        seen: set[str] = set()
        for hit in hits:
            if hit.file_id not in seen and len(seen) < UNCITED_SOURCES:
                seen.add(hit.file_id)
                last.annotations.append(Annotation(source=_source(hit), index=len(last.text)))
    request_context.extras[HITS_KEY] = []
