"""Adaptive micro-batching: concurrent requests for one model version predicted in one call.

A submitted request joins the version's queue. When no batch of the version is predicting,
the queue is predicted on the event loop's next turn: requests that were already ready to
run (received together) join it first, so a lone request waits one loop turn, never a timer.
While a batch is predicting (in a thread), requests queue and are predicted as soon as it
ends. A queue is predicted at once when it holds ``max_batch_rows`` rows, and no request
waits more than ``max_wait_ms`` (then its batch runs even beside the one still predicting).
Each request gets its own slice of the outcomes; if the batch call raises, each request is
predicted alone, so one bad request cannot fail the others. Every predict call is reported
once to a ``BatchObserver`` (why it ran, its rows, its requests' waits); ``close`` stops a
retired batcher taking requests while the ones it holds still get their answers.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.serving.batch_metrics import BatchObserver, FlushReason, Unobserved
from driftline.deployment.serving.row_batch import RowBatch

Outcome = tuple[Predicted, float]
"""Outcomes of the rows and the predict's wall-clock latency (ms)."""
Run = Callable[[RowBatch], Awaitable[Outcome]]


class BatcherClosedError(RuntimeError):
    """A request was submitted to a batcher retired by ``close``."""


def joined(batches: list[RowBatch]) -> RowBatch:
    """Several requests' rows as one batch (same features), in submission order."""
    if len(batches) == 1:
        return batches[0]
    return RowBatch(
        [row for b in batches for row in b.rows],
        batches[0].features,
        [value for b in batches for value in b.values],
        frozenset().union(*(b.kinds for b in batches)),
    )


def sliced(predicted: Predicted, start: int, stop: int) -> Predicted:
    """Rows ``start:stop`` of ``predicted``."""
    return Predicted(
        predicted.predictions[start:stop],
        predicted.probabilities[start:stop],
        predicted.scores[start:stop],
        predicted.errors[start:stop],
    )


@dataclass
class _Waiting:
    batch: RowBatch
    since: float
    answer: asyncio.Future[Outcome] = field(repr=False)


class MicroBatcher:
    """Queues one model version's concurrent requests and predicts them together."""

    def __init__(
        self,
        run: Run,
        max_batch_rows: int = 64,
        max_wait_ms: float = 2.0,
        clock: Callable[[], float] = time.perf_counter,
        observer: BatchObserver | None = None,
    ) -> None:
        self._run = run
        self._observer: BatchObserver = observer or Unobserved()
        self.max_batch_rows = max_batch_rows
        self.max_wait_s = max_wait_ms / 1000.0
        self._clock = clock
        self._queue: deque[_Waiting] = deque()
        self._queued_rows = 0
        self._running = 0
        self._soon: asyncio.Handle | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._settled: asyncio.Future[None] | None = None

    @property
    def busy(self) -> bool:
        """Whether requests are queued or a batch is predicting."""
        return bool(self._queue) or self._running > 0

    def close(self) -> None:
        """Take no more requests; the queued and predicting ones still get their answers."""
        self._closed = True

    async def drained(self) -> None:
        """Return once nothing is queued or predicting."""
        while self.busy:
            if self._settled is None:
                self._settled = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._settled)

    async def submit(self, batch: RowBatch) -> Outcome:
        """This request's outcomes, predicted alone or together with concurrent requests."""
        if self._closed:
            raise BatcherClosedError("this version's batcher was retired")
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(batch, self._clock(), answer))
        self._queued_rows += len(batch)
        self._decide()
        return await answer

    def _decide(self, ready: FlushReason = "idle") -> None:
        """Run what is due; else make sure the queue runs on time (``ready``: why it can)."""
        while self._queue and self._queued_rows >= self.max_batch_rows:
            self._flush("max_rows")
        if not self._queue:
            return
        loop = asyncio.get_running_loop()
        if self._running == 0 and self._soon is None:
            self._soon = loop.call_soon(self._ready, ready)
        elif self._running and self._timer is None:
            due = self._queue[0].since + self.max_wait_s - self._clock()
            self._timer = loop.call_later(max(due, 0.0), self._deadline)

    def _ready(self, reason: FlushReason) -> None:
        self._soon = None
        if self._queue and self._running == 0:
            self._flush(reason)
        self._decide()

    def _deadline(self) -> None:
        self._timer = None
        if self._queue and self._clock() - self._queue[0].since >= self.max_wait_s * 0.999:
            self._flush("max_wait")
        self._decide()

    def _flush(self, reason: FlushReason) -> None:
        """Take requests from the front, up to ``max_batch_rows`` rows, and predict them."""
        taken = [self._queue.popleft()]
        rows = len(taken[0].batch)
        while self._queue and rows + len(self._queue[0].batch) <= self.max_batch_rows:
            rows += len(self._queue[0].batch)
            taken.append(self._queue.popleft())
        self._queued_rows -= rows
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._clock()
        self._observer.batch_started(reason, rows, len(taken), [now - w.since for w in taken])
        self._running += 1
        task = asyncio.get_running_loop().create_task(self._predict(taken))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _predict(self, taken: list[_Waiting]) -> None:
        try:
            try:
                predicted, latency = await self._run(joined([w.batch for w in taken]))
            except Exception:  # retried per request below, so each request gets its own error
                if len(taken) == 1:
                    raise
                await asyncio.gather(*(self._alone(w) for w in taken))
                return
            start = 0
            for w in taken:
                stop = start + len(w.batch)
                if not w.answer.done():
                    w.answer.set_result((sliced(predicted, start, stop), latency))
                start = stop
        except BaseException as exc:
            for w in taken:
                if not w.answer.done():
                    w.answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._running -= 1
            self._decide("batch_ended")
            if self._settled is not None and not self.busy:
                if not self._settled.done():
                    self._settled.set_result(None)
                self._settled = None

    async def _alone(self, waiting: _Waiting) -> None:
        self._observer.batch_started("retried_alone", len(waiting.batch), 1, ())
        try:
            outcome = await self._run(waiting.batch)
        except Exception as exc:  # this request alone fails
            if not waiting.answer.done():
                waiting.answer.set_exception(exc)
            return
        if not waiting.answer.done():
            waiting.answer.set_result(outcome)
