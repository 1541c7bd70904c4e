"""Every retry in the bot follows one policy shape, on tenacity: exponential backoff with jitter
and a cap (the n-th wait is between half and all of `first`·2^(n-1), never above `cap`), a
bounded number of attempts, and the platform's own "retry after" obeyed when it gives one.

The named policies below hold every number in one place. Components receive their policies as
objects (a transport its `MatrixRetries`/`TelegramRetries`, the outbox its `RetryPolicy`), so
tests hand them the same policies `scaled()` down: the same waits in the same order, a thousand
times faster, and no real sleeps in the test suite."""
from __future__ import annotations

import asyncio
import dataclasses
import random
from dataclasses import dataclass
from typing import Any, TypeVar
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, stop_any, stop_never
from tenacity.stop import stop_base

T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    """A failure worth another attempt; `after`: the wait the platform asked for, if any."""

    after: float | None = None


# Looks at one attempt's exception (or None) and result: a `Retry`, or None to stop there.
Classifier = Callable[[BaseException | None, Any], Retry | None]


@dataclass(frozen=True)
class RetryPolicy:
    name: str
    first: float                 # seconds before the first retry (at most)
    cap: float                   # no wait above this
    attempts: int | None = None  # in all, the first one included; None: until it works
    # The longest wait a platform may ask for (HTTP 429 `retry_after`, `M_LIMIT_EXCEEDED`)
    # that is waited out here; a longer one ends the retries and goes back to the caller.
    max_pause: float = 60.0
    # Real time runs `speed` times faster than the policy's seconds (tests only).
    speed: float = 1.0

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """The wait after `failures` failures in a row, in the policy's seconds."""
        ceiling = min(self.cap, self.first * 2 ** max(0, min(failures, 30) - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)

    def due_in(self, failures: int) -> float:
        """The backoff in real seconds, for what stores a due time instead of sleeping."""
        return self.delay(failures) / self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    async def pause(self, failures: int) -> None:
        """Waits the backoff after `failures` failures in a row."""
        await self.sleep(self.delay(failures))

    def scaled(self, speed: float) -> RetryPolicy:
        return dataclasses.replace(self, speed=speed)

    async def run(self, call: Callable[[], Awaitable[T]], classify: Classifier, *,
                  stopping: Callable[[], bool] | None = None) -> T:
        """`call` until it succeeds, `classify` says stop, the attempts are used up or
        `stopping()` is true; then its last result is returned or its last exception raised."""
        stop: stop_base = stop_after_attempt(self.attempts) if self.attempts else stop_never
        if stopping is not None:
            stop = stop_any(stop, _StopWhen(stopping))
        retrying = AsyncRetrying(
            stop=stop, wait=lambda state: self._wait(state, classify),
            retry=lambda state: self._retries(state, classify), sleep=self.sleep,
            retry_error_callback=_last_outcome)

        async def attempt() -> T:
            # tenacity awaits only coroutine functions; `call` may be a lambda.
            return await call()

        return await retrying(attempt)

    def _retries(self, state: RetryCallState, classify: Classifier) -> bool:
        verdict = _verdict(state, classify)
        return verdict is not None and (verdict.after is None or verdict.after <= self.max_pause)

    def _wait(self, state: RetryCallState, classify: Classifier) -> float:
        verdict = _verdict(state, classify)
        if verdict is not None and verdict.after is not None:
            return verdict.after
        return self.delay(state.attempt_number)


class _StopWhen(stop_base):
    def __init__(self, condition: Callable[[], bool]):
        self.condition = condition

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.condition()


def _verdict(state: RetryCallState, classify: Classifier) -> Retry | None:
    outcome = state.outcome
    if outcome is None:
        return None
    if outcome.failed:
        error = outcome.exception()
        if not isinstance(error, Exception):
            return None   # cancelled, interrupted: never retried
        return classify(error, None)
    return classify(None, outcome.result())


def _last_outcome(state: RetryCallState) -> Any:
    assert state.outcome is not None
    return state.outcome.result()   # the last exception is raised again


# ---- the named policies ---------------------------------------------------------------------

# Telegram: a request (send, getMe, file) through network errors and short flood waits.
TELEGRAM_REQUEST = RetryPolicy("telegram.request", first=0.5, cap=8.0, attempts=6)
# Telegram: the getUpdates loop after a failure, forever.
TELEGRAM_POLLING = RetryPolicy("telegram.polling", first=0.5, cap=30.0)
# Matrix: one send or upload through network errors, 5xx and short M_LIMIT_EXCEEDED waits.
MATRIX_SEND = RetryPolicy("matrix.send", first=0.5, cap=8.0, attempts=4)
# Matrix: the sync loop while the homeserver is away, forever.
MATRIX_SYNC = RetryPolicy("matrix.sync", first=1.0, cap=60.0)
# Matrix: sharing a room key with devices not yet known (about 4 s before the outbox retries).
MATRIX_KEYS = RetryPolicy("matrix.keys", first=0.3, cap=2.4, attempts=5)
# The outbox: a failed message is tried again later, at most 8 times in all.
OUTBOX = RetryPolicy("outbox", first=10.0, cap=3600.0, attempts=8)
# A leader that could not start its transport (the platform is down) tries again.
LEADER_START = RetryPolicy("leader.start", first=5.0, cap=60.0)


@dataclass(frozen=True)
class MatrixRetries:
    sync: RetryPolicy = MATRIX_SYNC
    send: RetryPolicy = MATRIX_SEND
    keys: RetryPolicy = MATRIX_KEYS

    def scaled(self, speed: float) -> MatrixRetries:
        return MatrixRetries(self.sync.scaled(speed), self.send.scaled(speed),
                             self.keys.scaled(speed))


@dataclass(frozen=True)
class TelegramRetries:
    request: RetryPolicy = TELEGRAM_REQUEST
    polling: RetryPolicy = TELEGRAM_POLLING

    def scaled(self, speed: float) -> TelegramRetries:
        return TelegramRetries(self.request.scaled(speed), self.polling.scaled(speed))
