"""Shared test configuration: every async test runs on asyncio and on trio; the integration servers.

The real third-party servers (moto, OpenStack Swift, PowerDNS, Azurite) are session fixtures here, so
the driver tests, the contract suite and the walkthrough share one instance of each (started on first
use, always stopped).
The fault-injection tests start their own upstreams (``tests/faults/conftest.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.servers import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each ``@pytest.mark.anyio`` test once per backend."""
    return str(request.param)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[dict[str, str]]:
    """moto server without signature checking, for the session (``endpoint``, keys, ``region``)."""
    with running_server("moto") as info:
        yield info


@pytest.fixture(scope="session")
def moto_auth_server() -> Iterator[dict[str, str]]:
    """A second moto server that checks SigV4 signatures (``MOTO_AUTH=1``), with its IAM user's keys."""
    with running_server("moto", env={"MOTO_AUTH": "1"}) as info:
        yield info


@pytest.fixture(scope="session")
def swift_server() -> Iterator[dict[str, str]]:
    """A real OpenStack Swift (tempauth) on 127.0.0.1 (``auth_url``, ``auth_user``, ``auth_key``)."""
    with running_server("swift") as info:
        yield info


@pytest.fixture(scope="session")
def pdns_server() -> Iterator[dict[str, str]]:
    """A real PowerDNS Authoritative with its HTTP API on 127.0.0.1 (``endpoint``, ``api_key``)."""
    with running_server("pdns") as info:
        yield info


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[dict[str, str]]:
    """Azurite, the Azure Blob emulator, on 127.0.0.1 (``endpoint``, ``account_name``, ``account_key``)."""
    with running_server("azurite") as info:
        yield info
