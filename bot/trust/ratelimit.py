"""A per-person token bucket, checked before a message reaches the database.

Each chat identity has a bucket of `burst` tokens refilled at `per_minute` tokens a minute; a
message takes one. The first refused message gets one warning; after it, every message is
dropped silently until the bucket is full again (`burst / per_minute` minutes after the
warning: 10 s by default), so a sustained flood earns one warning, not one a second. Dropped
messages take no token. Everything lives in memory: a refused message costs a dictionary
look-up and no database query."""
from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from collections.abc import Callable


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"   # refused; tell the person once
    DROP = "drop"   # refused; say nothing


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class RateLimiter:
    def __init__(self, burst: int = 10, per_minute: int = 60,
                 now: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self.burst = burst
        self.rate = per_minute / 60.0
        self.now = now
        self.max_keys = max_keys
        self.enabled = burst > 0 and per_minute > 0
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str) -> Verdict:
        if not self.enabled:
            return Verdict.ALLOW
        now = self.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room()
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        if bucket.warned:
            # Warned once: silence until the bucket is full again, however long the flood.
            if bucket.tokens < self.burst:
                return Verdict.DROP
            bucket.warned = False
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict.ALLOW
        bucket.warned = True
        return Verdict.WARN

    def _make_room(self) -> None:
        """Forgets buckets that are full again (as good as new) once the table is large, so
        that a flood of new identities cannot grow memory without bound."""
        if len(self._buckets) < self.max_keys:
            return
        now = self.now()
        full = [key for key, b in self._buckets.items()
                if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # all busy: drop the oldest half
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k].updated)
            for key in oldest[: len(oldest) // 2]:
                del self._buckets[key]
