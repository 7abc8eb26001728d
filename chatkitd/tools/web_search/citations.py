"""Search results reach the user as URL citations on the answer that used them.

The ``web_search`` tool numbers its results (``[1]``, ``[2]``, ... across a
run's searches) and asks the model to cite them so. When the answer is done,
each cited number (or a result's URL written out) becomes a URL annotation at
that place in the text; an answer that cites nothing gets every result it was
shown, as its sources. Answers that already carry annotations (OpenAI's hosted
search) are left as they are. Any model works: nothing here needs the model
to produce annotations itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chatkit.types import (
    Annotation,
    AssistantMessageContentPartAnnotationAdded,
    AssistantMessageContentPartDone,
    AssistantMessageItem,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
    URLSource,
)

from chatkitd.tools.web_search.backends import SearchResult

_MARKER = re.compile(r"\[(\d{1,3})\]")


@dataclass
class Sources:
    """The results a run's searches showed the model, numbered from 1 in the order shown."""

    results: list[SearchResult] = field(default_factory=list)

    def add(self, found: list[SearchResult]) -> int:
        """Keep ``found``; returns the number of its first result."""
        first = len(self.results) + 1
        self.results.extend(found)
        return first

    def annotations(self, text: str) -> list[Annotation]:
        cited: dict[int, int] = {}
        for match in _MARKER.finditer(text):
            number = int(match.group(1))
            if 1 <= number <= len(self.results):
                cited.setdefault(number, match.end())
        for number, result in enumerate(self.results, start=1):
            at = text.find(result.url)
            if number not in cited and at >= 0:
                cited[number] = at + len(result.url)
        if not cited:
            # Nothing cited: the results it was shown are its sources, listed after the text.
            cited = {number: len(text) for number in range(1, len(self.results) + 1)}
        return [
            Annotation(
                source=URLSource(url=self.results[n - 1].url, title=self.results[n - 1].title), index=at
            )
            for n, at in sorted(cited.items(), key=lambda pair: (pair[1], pair[0]))
        ]


def cite(event: ThreadStreamEvent, sources: Sources) -> list[ThreadStreamEvent]:
    """The event, preceded (for a finished message part) by the annotations its text earned."""
    if not sources.results:
        return [event]
    if isinstance(event, ThreadItemUpdatedEvent) and isinstance(
        event.update, AssistantMessageContentPartDone
    ):
        content = event.update.content
        if content.annotations or not content.text:
            return [event]
        content.annotations = sources.annotations(content.text)
        added: list[ThreadStreamEvent] = [
            ThreadItemUpdatedEvent(
                item_id=event.item_id,
                update=AssistantMessageContentPartAnnotationAdded(
                    content_index=event.update.content_index, annotation_index=index, annotation=annotation
                ),
            )
            for index, annotation in enumerate(content.annotations)
        ]
        return [*added, event]
    if isinstance(event, ThreadItemDoneEvent) and isinstance(event.item, AssistantMessageItem):
        for part in event.item.content:
            if not part.annotations and part.text:
                part.annotations = sources.annotations(part.text)
    return [event]
