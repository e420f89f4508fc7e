"""Deployment tests run on asyncio only (asyncssh), against a real SSH server on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncssh
import pytest

from asynccloud.deployment import SSHOptions
from asynccloud.models import Node, NodeState
from tests.deployment.sshserver import SSHTestServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
def anyio_backend() -> str:
    """asyncssh runs on asyncio only (trio's clear error is tested in test_trio.py)."""
    return "asyncio"


@dataclass(frozen=True)
class Keys:
    """Client keys of each supported type, one that the server does not accept, and a spare host key."""

    ed25519: asyncssh.SSHKey
    rsa: asyncssh.SSHKey
    ecdsa: asyncssh.SSHKey
    stranger: asyncssh.SSHKey
    other_host: asyncssh.SSHKey


@pytest.fixture(scope="session")
def keys() -> Keys:
    """Generated once per session (RSA generation takes a moment)."""
    return Keys(
        ed25519=asyncssh.generate_private_key("ssh-ed25519"),
        rsa=asyncssh.generate_private_key("ssh-rsa", key_size=2048),
        ecdsa=asyncssh.generate_private_key("ecdsa-sha2-nistp256"),
        stranger=asyncssh.generate_private_key("ssh-ed25519"),
        other_host=asyncssh.generate_private_key("ssh-ed25519"),
    )


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """The SSH server's home directory."""
    path = tmp_path / "remote"
    path.mkdir()
    return path


@pytest.fixture
async def server(remote: Path, keys: Keys) -> AsyncIterator[SSHTestServer]:
    """A running server that accepts the ed25519, RSA and ECDSA client keys."""
    async with SSHTestServer(remote, [keys.ed25519, keys.rsa, keys.ecdsa]) as srv:
        yield srv


def write_key(
    path: Path, key: asyncssh.SSHKey, *, fmt: str = "openssh", passphrase: str | None = None
) -> Path:
    """Write a private key file (mode 0600) and return its path.

    Encrypted OpenSSH keys use 16 bcrypt KDF rounds, as ``ssh-keygen`` does (asyncssh's default of 128
    takes a second per key); bcrypt warns about so few rounds, so tests using them filter that warning.
    """
    if fmt == "openssh" and passphrase:
        path.write_bytes(key.export_private_key(fmt, passphrase, rounds=16))
    else:
        path.write_bytes(key.export_private_key(fmt, passphrase))
    path.chmod(0o600)
    return path


@pytest.fixture
def key_file(tmp_path: Path, keys: Keys) -> Path:
    """The ed25519 client key, unencrypted, in OpenSSH format."""
    return write_key(tmp_path / "id_ed25519", keys.ed25519)


@pytest.fixture
def known_hosts(tmp_path: Path, server: SSHTestServer) -> Path:
    """A known_hosts file that trusts the server."""
    path = tmp_path / "known_hosts"
    path.write_text(server.known_hosts_line())
    return path


def local_node(name: str = "node1", address: str = "127.0.0.1") -> Node:
    """A running node model whose public address is the test server's."""
    return Node(id=f"id-{name}", name=name, state=NodeState.RUNNING, public_ips=[address])


def ssh_options(server: SSHTestServer, key: Any, known_hosts: Path, **overrides: Any) -> SSHOptions:
    """Options for the test server: fast retries, short timeouts."""
    settings: dict[str, Any] = {
        "username": "deployer",
        "key": key,
        "port": server.port,
        "known_hosts": known_hosts,
        "connect_timeout": 5.0,
        "retry_delay": 0.05,
        "max_tries": 3,
        "timeout": 20.0,
    }
    settings.update(overrides)
    return SSHOptions(**settings)
