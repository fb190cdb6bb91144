"""An in-memory sliding-window rate limit per client, that never keeps the client's address.

Keys are HMACs of the address under a secret made when the process starts, so even the
process's memory holds no IP address of a reporter, and a restart forgets everything.
It counts per process: run one server process (``raksha serve`` does).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from raksha.errors import UsageError


class RateLimitedError(UsageError):
    """Too many requests from one client in the window; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` events per ``seconds``."""

    count: int
    seconds: float


class SlidingWindow:
    """Counts events per key in the last ``limit.seconds``; thread-safe."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._secret = secrets.token_bytes(32)
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _key(self, client: str) -> str:
        return hmac.new(self._secret, client.encode(), hashlib.sha256).hexdigest()

    def _window(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.limit.seconds:
            events.popleft()
        return events

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may act again, or ``None`` when it may now."""
        now = self._clock()
        with self._lock:
            events = self._window(self._key(client), now)
            if len(events) < self.limit.count:
                return None
            return max(1, int(events[0] + self.limit.seconds - now + 0.999))

    def hit(self, client: str) -> int | None:
        """Count one event; returns the wait in seconds instead when over the limit."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            events = self._window(self._key(client), now)
            if len(events) >= self.limit.count:
                return max(1, int(events[0] + self.limit.seconds - now + 0.999))
            events.append(now)
            return None

    def _prune(self, now: float) -> None:
        """Drop keys whose last event left the window (bounded memory under many clients)."""
        if len(self._events) < 1024:
            return
        cutoff = now - self.limit.seconds
        for key in [k for k, v in self._events.items() if not v or v[-1] <= cutoff]:
            del self._events[key]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
