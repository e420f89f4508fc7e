"""Retry policy for the request pipeline: how often, how long, and how far apart attempts are made.

:class:`RetryPolicy` is plain data; the one retry loop that applies it lives in :mod:`asynccloud._http`.
Drivers and users pass a policy to a driver (``retry=RetryPolicy(max_attempts=6)``) and never write
their own loops.
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .errors import ConfigurationError

__all__ = ["DEFAULT_RETRY_STATUSES", "RetryPolicy", "parse_retry_after"]

#: Statuses that mean "try again later": request timeout, throttling, and transient server failures.
DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})

# 2**62 * any sane base is already far above any sane cap; bounding the exponent keeps the float finite.
_MAX_EXPONENT = 62


@dataclass(frozen=True)
class RetryPolicy:
    """How the request pipeline retries failed attempts.

    Sleeps between attempts use exponential backoff with *full jitter*: the ``n``-th sleep is drawn
    uniformly from ``[0, min(backoff_max, backoff_base * 2**n)]``, so many clients throttled at the
    same moment do not come back in lock-step. A ``Retry-After`` the provider sent raises the sleep to
    at least that value (capped by ``max_retry_after``).

    Args:
        max_attempts: Total number of attempts, the first one included; ``1`` disables retries.
        total_timeout: Time budget in seconds across all attempts and sleeps, or ``None`` for no budget.
            The budget decides whether another attempt is started: the loop gives up when the next
            sleep would end after it. An attempt already in flight is bounded by the per-attempt
            HTTP timeout, not cut short by the budget, so a long upload is never killed halfway.
        backoff_base: Scale of the exponential backoff, in seconds.
        backoff_max: Upper bound of a single backoff sleep, in seconds.
        retry_statuses: HTTP statuses worth retrying (providers may add throttling codes on top).
        max_retry_after: Largest ``Retry-After`` honoured, in seconds; larger values are capped.

    Raises:
        ConfigurationError: When ``max_attempts`` is below 1 or a duration is negative.
    """

    max_attempts: int = 4
    total_timeout: float | None = 60.0
    backoff_base: float = 0.25
    backoff_max: float = 20.0
    retry_statuses: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES)
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ConfigurationError(f"max_attempts must be an int, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, got {self.max_attempts}")
        durations = {
            "backoff_base": self.backoff_base,
            "backoff_max": self.backoff_max,
            "max_retry_after": self.max_retry_after,
        }
        if self.total_timeout is not None:
            durations["total_timeout"] = self.total_timeout
        for name, value in durations.items():
            # ``not value >= 0`` also rejects NaN.
            if not value >= 0:
                raise ConfigurationError(f"{name} must be a non-negative number of seconds, got {value!r}")
        statuses = frozenset(self.retry_statuses)
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in statuses):
            raise ConfigurationError(f"retry_statuses must hold ints, got {sorted(map(repr, statuses))}")
        # Frozen dataclass: accept any iterable of statuses but always store a frozenset.
        object.__setattr__(self, "retry_statuses", statuses)

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt.

        Returns:
            A ``RetryPolicy`` with ``max_attempts=1``.
        """
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """Draw the sleep before the next attempt (exponential backoff, full jitter).

        Args:
            attempt: How many retries came before this one: ``0`` for the sleep after the first
                attempt, ``1`` after the second, and so on.

        Returns:
            Seconds to sleep, uniformly drawn from ``[0, min(backoff_max, backoff_base * 2**attempt)]``.
        """
        exponent = min(max(attempt, 0), _MAX_EXPONENT)
        ceiling = min(self.backoff_max, self.backoff_base * 2**exponent)
        return random.uniform(0.0, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header value.

    Args:
        value: The header value: delta-seconds (``"120"``; fractional values are accepted too) or an
            HTTP-date (``"Wed, 21 Oct 2015 07:28:00 GMT"``).

    Returns:
        Non-negative seconds to wait (a date in the past gives ``0.0``), or ``None`` when the value is
        absent or cannot be understood.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are always GMT; a "-0000" zone comes back naive.
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
