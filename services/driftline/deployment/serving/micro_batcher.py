"""Adaptive micro-batching: concurrent requests for one model version predicted in one call.

A request announces itself (``arrival``) when it starts being served, then ``submit``s its
checked rows. Rows queue while other announced requests are still on their way or a batch
of this version is predicting; the queue is predicted as ONE call when it holds
``max_batch_rows`` rows, when nothing else is on its way, or when its oldest request has
waited ``max_wait_ms``, whichever comes first. A request that finds the version idle and
nobody else arriving is predicted at once: micro-batching never holds back a lone request.
Each request gets its own slice of the outcomes; if the batch call raises, each request is
predicted alone, so one bad request cannot fail the others.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.serving.row_batch import RowBatch

Outcome = tuple[Predicted, float]
"""Outcomes of the rows and the predict's wall-clock latency (ms)."""
Run = Callable[[RowBatch], Awaitable[Outcome]]


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


class Arrival:
    """A request on its way to ``submit``: batches wait for it (at most ``max_wait_ms``)."""

    def __init__(self, batcher: MicroBatcher) -> None:
        self._batcher = batcher
        self.open = True

    def close(self) -> None:
        """No longer on its way (submitted, or failed before it could be)."""
        if self.open:
            self.open = False
            self._batcher._arriving -= 1
            self._batcher._decide()

    def __enter__(self) -> Arrival:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class MicroBatcher:
    """Queues one model version's concurrent requests and predicts them together."""

    def __init__(
        self,
        run: Run,
        max_batch_rows: int = 64,
        max_wait_ms: float = 2.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._run = run
        self.max_batch_rows = max_batch_rows
        self.max_wait_s = max_wait_ms / 1000.0
        self._clock = clock
        self._queue: deque[_Waiting] = deque()
        self._arriving = 0
        self._running = 0
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.waits_ms: deque[float] = deque(maxlen=1024)
        """How long each recent request waited in the queue before its batch ran."""
        self.batch_rows: deque[int] = deque(maxlen=1024)
        """Rows of each recent predict call."""

    def arrival(self) -> Arrival:
        """Announce a request; close it (``with``) when it submitted or gave up."""
        self._arriving += 1
        return Arrival(self)

    async def submit(self, batch: RowBatch, arrival: Arrival | None = None) -> Outcome:
        """This request's outcomes, predicted alone or together with concurrent requests."""
        if arrival is not None and arrival.open:
            arrival.open = False
            self._arriving -= 1
        if not self._queue and self._idle():  # alone: predict now, in this task
            self.waits_ms.append(0.0)
            self.batch_rows.append(len(batch))
            self._running += 1
            try:
                return await self._run(batch)
            finally:
                self._running -= 1
                self._decide()
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(batch, self._clock(), answer))
        self._decide()
        return await answer

    def _idle(self) -> bool:
        return self._arriving == 0 and self._running == 0

    def _queued_rows(self) -> int:
        return sum(len(w.batch) for w in self._queue)

    def _decide(self) -> None:
        """Flush what is due; else make sure the oldest request's deadline is set."""
        while self._queue and (self._idle() or self._queued_rows() >= self.max_batch_rows):
            self._flush()
        if self._queue and self._timer is None:
            due = self._queue[0].since + self.max_wait_s - self._clock()
            self._timer = asyncio.get_running_loop().call_later(max(due, 0.0), self._deadline)

    def _deadline(self) -> None:
        self._timer = None
        if self._queue:
            self._flush()
        self._decide()

    def _flush(self) -> None:
        """Take requests from the front, up to ``max_batch_rows`` rows, and predict them."""
        taken, rows = [self._queue.popleft()], 0
        rows = len(taken[0].batch)
        while self._queue and rows + len(self._queue[0].batch) <= self.max_batch_rows:
            rows += len(self._queue[0].batch)
            taken.append(self._queue.popleft())
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._clock()
        self.waits_ms.extend((now - w.since) * 1000.0 for w in taken)
        self.batch_rows.append(rows)
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
            self._decide()

    async def _alone(self, waiting: _Waiting) -> None:
        try:
            outcome = await self._run(waiting.batch)
        except Exception as exc:  # this request alone fails
            if not waiting.answer.done():
                waiting.answer.set_exception(exc)
            return
        if not waiting.answer.done():
            waiting.answer.set_result(outcome)
