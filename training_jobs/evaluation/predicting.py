"""Calling a scorer for every ticket: batches within its limit, retries, progress.

Retries (tenacity) wait for Retry-After when the scorer gives one, else back
off exponentially; progress is tqdm's bar on stderr, retry messages above it.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)
from tqdm import tqdm

from training_jobs.evaluation.labelled import LabelledTicket
from training_jobs.evaluation.scorers import (
    PredictionError,
    Ranking,
    RetryableError,
    TicketRanker,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long ``call_with_retries`` tries again after a RetryableError."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, state: RetryCallState) -> float:
        """Seconds before the next attempt: Retry-After if given, else exponential; capped."""
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, RetryableError) else None
        attempt = state.attempt_number
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** (attempt - 1)
        return min(wanted, self.max_delay)


def call_with_retries(
    call: Callable[[], list[Ranking]],
    policy: RetryPolicy,
    on_retry: Callable[[str], None] = lambda _message: None,
) -> list[Ranking]:
    """``call()``, again after a pause for each RetryableError, up to ``policy.max_attempts``."""

    def announce(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        pause = state.next_action.sleep if state.next_action else 0.0
        on_retry(f"attempt {state.attempt_number} failed ({error}); retrying in {pause:g} s")

    retrying = Retrying(
        retry=retry_if_exception_type(RetryableError),
        stop=stop_after_attempt(policy.max_attempts),
        wait=policy.delay,
        sleep=policy.sleep,
        before_sleep=announce,
    )
    try:
        result: list[Ranking] = retrying(call)
    except RetryError as exhausted:
        attempt = exhausted.last_attempt
        raise PredictionError(
            f"gave up after {attempt.attempt_number} attempts: {attempt.exception()}"
        ) from attempt.exception()
    return result


def progress_bar(total: int, *, enabled: bool = True, stream: TextIO | None = None) -> tqdm[Any]:
    """tqdm's bar over the tickets on stderr (or ``stream``); nothing at all when disabled."""
    return tqdm(
        total=total,
        desc="evaluating",
        unit="ticket",
        file=stream if stream is not None else sys.stderr,
        disable=not enabled,
        # On a pipe or file, a line every few seconds, not a redraw per batch.
        mininterval=0.1 if (stream or sys.stderr).isatty() else 5.0,
    )


def _batches(items: Sequence[LabelledTicket], size: int) -> Iterable[Sequence[LabelledTicket]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def predict_all(
    tickets: Sequence[LabelledTicket],
    ranker: TicketRanker,
    *,
    k: int = 2,
    batch_size: int = 100,
    retry: RetryPolicy | None = None,
    progress: tqdm[Any] | None = None,
) -> list[Ranking]:
    """The ranking of every ticket, in order; raises PredictionError if a batch keeps failing."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    retry = retry or RetryPolicy()
    size = min(batch_size, ranker.max_batch) if ranker.max_batch else batch_size
    rankings: list[Ranking] = []
    for batch in _batches(tickets, size):
        texts = [(t.title, t.description) for t in batch]
        on_retry = (
            functools.partial(tqdm.write, file=progress.fp)
            if progress is not None and not progress.disable
            else (lambda _m: None)
        )
        answers = call_with_retries(functools.partial(ranker.rank, texts, k), retry, on_retry)
        if len(answers) != len(batch):
            raise PredictionError(f"{len(answers)} rankings for a batch of {len(batch)}")
        rankings.extend(answers)
        if progress is not None:
            progress.update(len(batch))
    if progress is not None:
        progress.close()
    return rankings
