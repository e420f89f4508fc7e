"""RetryPolicy arithmetic and Retry-After parsing."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from asynccloud._retry import DEFAULT_RETRY_STATUSES, RetryPolicy, parse_retry_after
from asynccloud.errors import ConfigurationError


def test_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 4
    assert policy.total_timeout == 60.0
    assert policy.backoff_base == 0.25
    assert policy.backoff_max == 20.0
    assert policy.retry_statuses == frozenset({408, 429, 500, 502, 503, 504})
    assert policy.retry_statuses == DEFAULT_RETRY_STATUSES
    assert policy.max_retry_after == 60.0


def test_disabled_makes_one_attempt() -> None:
    assert RetryPolicy.disabled().max_attempts == 1


def test_policy_is_frozen() -> None:
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 9  # type: ignore[misc]


def test_retry_statuses_are_stored_as_frozenset() -> None:
    policy = RetryPolicy(retry_statuses={503, 429})  # type: ignore[arg-type]
    assert isinstance(policy.retry_statuses, frozenset)
    assert policy.retry_statuses == {503, 429}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": -1},
        {"max_attempts": True},
        {"max_attempts": 2.5},
        {"total_timeout": -1.0},
        {"total_timeout": float("nan")},
        {"backoff_base": -0.1},
        {"backoff_max": -1},
        {"max_retry_after": -5},
        {"retry_statuses": frozenset({"503"})},
    ],
)
def test_invalid_arguments_raise_configuration_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_zero_and_none_budgets_are_valid() -> None:
    assert RetryPolicy(total_timeout=None).total_timeout is None
    assert RetryPolicy(total_timeout=0, backoff_base=0, backoff_max=0).backoff(3) == 0.0


def test_backoff_uses_full_jitter_over_exponential_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[float, float]] = []

    def fake_uniform(low: float, high: float) -> float:
        calls.append((low, high))
        return high

    monkeypatch.setattr(random, "uniform", fake_uniform)
    policy = RetryPolicy(backoff_base=0.5, backoff_max=3.0)
    assert [policy.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert calls == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (0.0, 3.0)]


def test_backoff_samples_stay_in_range_and_vary() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0)
    samples = [policy.backoff(2) for _ in range(300)]
    assert all(0.0 <= s <= 4.0 for s in samples)
    # Full jitter: spread over the whole interval, not clustered at the ceiling.
    assert min(samples) < 1.0
    assert max(samples) > 3.0
    assert len(set(samples)) > 250


def test_backoff_huge_attempt_is_capped_not_overflowing() -> None:
    policy = RetryPolicy(backoff_base=0.25, backoff_max=2.0)
    assert all(0.0 <= policy.backoff(n) <= 2.0 for n in (50, 1_000, 100_000))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        (None, None),
        ("", None),
        ("   ", None),
        ("soon", None),
        ("-1", None),
        ("inf", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),
        ("Wed, 99 Foo 2015 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_future_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None
    assert 85.0 <= seconds <= 90.0


def test_parse_retry_after_future_date_without_zone_is_gmt() -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    seconds = parse_retry_after(when.strftime("%a, %d %b %Y %H:%M:%S -0000"))
    assert seconds is not None
    assert 85.0 <= seconds <= 90.0
