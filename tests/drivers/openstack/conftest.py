"""Fixtures of the OpenStack tests: a respx router for unit tests, a real Swift for integration tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import respx

from asynccloud.drivers.openstack import SwiftStorageDriver
from tests.drivers.openstack._support import FAST_RETRY, KEYSTONE, PASSWORD, V3_TOKENS, v3_token_response

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    """Fake HTTP: every request must match a route (nothing leaves the process)."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def tokens(mock: respx.MockRouter) -> respx.Route:
    """Keystone v3 answering every token request with the fixture token "tok"."""
    return mock.post(V3_TOKENS).mock(return_value=v3_token_response("tok"))


@pytest.fixture
async def swift(tokens: respx.Route) -> AsyncIterator[SwiftStorageDriver]:
    """A Swift driver on the fixture catalog's RegionOne, with 4-byte parts (so tiny uploads are SLOs)."""
    driver = SwiftStorageDriver(
        "demo",
        PASSWORD,
        auth_url=KEYSTONE,
        tenant_name="demo",
        region="RegionOne",
        retry=FAST_RETRY,
        part_size=4,
    )
    async with driver:
        yield driver
