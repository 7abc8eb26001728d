"""Time in UTC. ``openai-chatkit`` stamps naive local times; chatkitd stores UTC."""

import time
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def unix() -> float:
    return time.time()


def to_utc(value: datetime) -> datetime:
    """A naive datetime is taken as local time, as ``datetime.now()`` produced it."""
    return value.astimezone(UTC)
