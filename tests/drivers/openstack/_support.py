"""Shared helpers of the OpenStack and Rackspace unit tests: fixture files, URLs, canned responses."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from asynccloud import RetryPolicy
from asynccloud.models import Container

if TYPE_CHECKING:
    from asynccloud.drivers.openstack import SwiftStorageDriver

FIXTURES = Path(__file__).parent / "fixtures"
RACKSPACE_FIXTURES = Path(__file__).parent.parent / "rackspace" / "fixtures"

KEYSTONE = "https://keystone.example.com:5000/v3"
V3_TOKENS = f"{KEYSTONE}/auth/tokens"
V2_TOKENS = "https://keystone.example.com:5000/v2.0/tokens"
PROJECT = "a6944d763bf64ee6a275f1263fae0352"
SWIFT = f"https://swift.example.com/v1/AUTH_{PROJECT}"
SWIFT_REGION2 = f"https://swift.region2.example.com/v1/AUTH_{PROJECT}"
PASSWORD = "correct horse battery staple"
#: The fixture tokens are issued at 10:00 and expire at 11:00 on this day.
ISSUED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
#: Retries without real sleeps.
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_max=0.0)


@cache
def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def load(name: str) -> Any:
    """A fixture file of tests/drivers/openstack/fixtures, parsed (a fresh copy)."""
    return copy.deepcopy(_load(FIXTURES / name))


def load_rackspace(name: str) -> Any:
    """A fixture file of tests/drivers/rackspace/fixtures, parsed (a fresh copy)."""
    return copy.deepcopy(_load(RACKSPACE_FIXTURES / name))


def v3_token_response(token: str = "gAAAAABtoken-one") -> httpx.Response:
    """Keystone's answer to ``POST /v3/auth/tokens`` (201, ``X-Subject-Token``)."""
    return httpx.Response(201, headers={"X-Subject-Token": token}, json=load("keystone_v3_token.json"))


def v2_access_response(token: str | None = None) -> httpx.Response:
    """Keystone v2.0's answer to ``POST /v2.0/tokens``."""
    body = load("keystone_v2_access.json")
    if token is not None:
        body["access"]["token"]["id"] = token
    return httpx.Response(200, json=body)


class Clock:
    """A settable clock for token expiry tests."""

    def __init__(self, now: datetime = ISSUED) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def md5(data: bytes) -> str:
    """Hex MD5, as Swift's ETag."""
    return hashlib.md5(data).hexdigest()


def box(driver: SwiftStorageDriver) -> Container:
    """The container "box", bound to ``driver`` (no request)."""
    return driver.bind(Container(name="box"))
