"""One retry policy for everything okrbot tries again: a delivery that failed to apply, a write that failed.

Exponential back-off from `retry_base_seconds`, capped at an hour, and at most OKRBOT_MAX_ATTEMPTS
tries; both values live in the settings (`Settings.retry`).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DELAY_SECONDS = 3600.0  # a retry more than an hour away is a retry nobody is waiting for


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float

    def delay(self, attempts: int) -> float | None:
        """Seconds to wait after the `attempts`-th failed try; None when that was the last one."""
        if attempts >= self.max_attempts:
            return None
        return min(self.base_seconds * 2 ** (attempts - 1), MAX_DELAY_SECONDS)
