"""Prometheus metrics of workflow runs: runs, run errors, time to first token, tokens.

The request metrics (``chatkitd.http.metrics``) say how the server answers;
these say how the workflows behind it do, by workflow and by model, whether
or not a session keeps traces. The conversation runtime counts each run it
starts and binds a ``RunMeter`` to it, which the run's models report to
(``chatkitd.models.metering``). Labels are workflow ids and model names,
which only an admin sets, so their number stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from prometheus_client import Counter, Histogram

from chatkitd.models.metering import current_meter

# First tokens come fast from a local model and slowly from a loaded remote one.
_TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


class RunMetrics:
    """The run metrics of one platform; ``collectors`` go into the app's registry."""

    def __init__(self) -> None:
        self.runs = Counter(
            "chatkitd_runs", "Workflow runs started, by workflow.", ["workflow"], registry=None
        )
        self.errors = Counter(
            "chatkitd_run_errors",
            "Workflow runs that ended in an error, by workflow and error type.",
            ["workflow", "error"],
            registry=None,
        )
        self.ttft = Histogram(
            "chatkitd_time_to_first_token_seconds",
            "From a model call to its first output token, by workflow and model.",
            ["workflow", "model"],
            buckets=_TTFT_BUCKETS,
            registry=None,
        )
        self.tokens = Counter(
            "chatkitd_model_tokens",
            "Tokens read (input) and written (output) by models, by workflow and model.",
            ["workflow", "model", "direction"],
            registry=None,
        )
        self.collectors = (self.runs, self.errors, self.ttft, self.tokens)

    @contextlib.contextmanager
    def run(self, workflow_id: str) -> Iterator[None]:
        """Count one run of ``workflow_id`` and meter its model calls; count its error if it fails."""
        self.runs.labels(workflow_id).inc()
        with self.model_calls(workflow_id):
            try:
                yield
            except (asyncio.CancelledError, GeneratorExit):
                raise  # a stopped stream is the user's choice, not a failed run
            except BaseException as error:
                self.errors.labels(workflow_id, type(error).__name__).inc()
                raise

    @contextlib.contextmanager
    def model_calls(self, workflow_id: str) -> Iterator[None]:
        """Meter the model calls made inside (a run's, or its thread's title) for ``workflow_id``."""
        token = current_meter.set(RunMeter(self, workflow_id))
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):  # reset from another context: the run moved tasks
                current_meter.reset(token)


class RunMeter:
    """One run's meter: what its models report, labelled with its workflow."""

    def __init__(self, metrics: RunMetrics, workflow_id: str) -> None:
        self.metrics = metrics
        self.workflow_id = workflow_id

    def first_token(self, model: str, seconds: float) -> None:
        self.metrics.ttft.labels(self.workflow_id, model).observe(seconds)

    def tokens(self, model: str, input_tokens: int, output_tokens: int) -> None:
        if input_tokens:
            self.metrics.tokens.labels(self.workflow_id, model, "input").inc(input_tokens)
        if output_tokens:
            self.metrics.tokens.labels(self.workflow_id, model, "output").inc(output_tokens)
