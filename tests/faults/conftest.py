"""Fixtures of the fault-injection tests: real servers (moto, Swift), proxies in front of them, the tally.

The tally (:class:`Tally`) adds up what every fault test injected, ran and verified; when the environment
variable ``ASYNCCLOUD_RELIABILITY_REPORT`` names a file, the session writes the figures there as JSON
(``scripts/reliability_report.py`` renders them as the table of ``docs/reliability.md``).
"""

from __future__ import annotations

import collections
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from asynccloud import RetryPolicy
from tests.faults.proxy import FaultProxy
from tests.servers import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Retries that cost milliseconds, with enough attempts that two scheduled faults in a row still pass.
FAST = RetryPolicy(max_attempts=6, backoff_base=0.001, backoff_max=0.005, total_timeout=30)


class Tally:
    """Figures of the fault suite, summed over tests (thread-safe: proxies run in their own threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.injected: collections.Counter[str] = collections.Counter()
        self.counters: collections.Counter[str] = collections.Counter()
        self.answers: collections.Counter[str] = collections.Counter()

    def add(self, name: str, value: int = 1) -> None:
        with self._lock:
            self.counters[name] += value

    def answer(self, kind: str) -> None:
        with self._lock:
            self.answers[kind] += 1

    def absorb(self, proxy: FaultProxy, suite: str) -> None:
        """Add a proxy's counters (faults per kind, requests forwarded, bytes served)."""
        with self._lock:
            for kind, n in proxy.injected.items():
                self.injected[kind] += n
                self.counters[f"{suite}: faults injected"] += n
            self.counters[f"{suite}: requests seen by the proxy"] += proxy.requests
            self.counters[f"{suite}: requests forwarded to the server"] += len(proxy.forwarded)

    def as_json(self) -> dict[str, Any]:
        return {
            "faults_injected": dict(sorted(self.injected.items())),
            "counters": dict(sorted(self.counters.items())),
            "answers": dict(sorted(self.answers.items())),
        }


_TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Iterator[Tally]:
    yield _TALLY
    target = os.environ.get("ASYNCCLOUD_RELIABILITY_REPORT")
    if target:
        path = Path(target)
        merged: dict[str, Any] = {}
        if path.exists():  # other suites (bad input) may have written their part already
            merged = json.loads(path.read_text(encoding="utf-8"))
        merged["faults"] = _TALLY.as_json()
        path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def moto_upstream() -> Iterator[dict[str, str]]:
    with running_server("moto") as info:
        yield info


@pytest.fixture(scope="session")
def swift_upstream() -> Iterator[dict[str, str]]:
    with running_server("swift") as info:
        yield info


@pytest.fixture
def s3_proxy(moto_upstream: dict[str, str], tally: Tally) -> Iterator[FaultProxy]:
    with FaultProxy(moto_upstream["endpoint"], stall_limit=5, slow_delay=0.8) as proxy:
        yield proxy
    tally.absorb(proxy, "s3")


@pytest.fixture
def ec2_proxy(moto_upstream: dict[str, str], tally: Tally) -> Iterator[FaultProxy]:
    with FaultProxy(moto_upstream["endpoint"], stall_limit=5, slow_delay=0.8) as proxy:
        yield proxy
    tally.absorb(proxy, "ec2")


@pytest.fixture
def swift_proxy(swift_upstream: dict[str, str], tally: Tally) -> Iterator[FaultProxy]:
    with FaultProxy(swift_upstream["endpoint"], stall_limit=5, slow_delay=0.8) as proxy:
        yield proxy
    tally.absorb(proxy, "swift")
