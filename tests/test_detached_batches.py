"""``detached_batches``: what the stream's producer queued while the consumer was away comes at once,
in order, with nothing held back and a failure raised after the values before it."""

from __future__ import annotations

import asyncio

import pytest

from chatkitd.runtime.detached import detached_batches


async def _source(values, fail=False, pause_after=None):
    for n, value in enumerate(values):
        yield value
        if pause_after is not None and n == pause_after:
            await asyncio.sleep(0.05)  # the consumer catches up: the next value is a batch of its own
    if fail:
        raise RuntimeError("the workflow failed")


def test_values_queued_together_come_as_one_batch_in_order():
    async def run():
        return [batch async for batch in detached_batches(_source(range(6), pause_after=2))]

    batches = asyncio.run(run())
    assert [value for batch in batches for value in batch] == list(range(6))
    assert len(batches) < 6  # frames ready together were joined
    assert batches[-1][-1] == 5


def test_a_failure_comes_after_the_values_produced_before_it():
    async def run():
        seen = []
        with pytest.raises(RuntimeError, match="the workflow failed"):
            async for batch in detached_batches(_source(range(3), fail=True)):
                seen.extend(batch)
        return seen

    assert asyncio.run(run()) == [0, 1, 2]


def test_a_consumer_that_stops_cancels_the_producer_once():
    cancelled = []

    async def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def run():
        batches = detached_batches(endless())
        await anext(batches)
        await batches.aclose()
        await asyncio.sleep(0.05)

    asyncio.run(run())
    assert cancelled == [True]
