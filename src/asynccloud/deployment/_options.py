"""How to reach a node over SSH: :class:`SSHOptions` and the :class:`HostKeyPolicy`.

Plain data, no asyncssh: importing this module (or :mod:`asynccloud.deployment`) costs nothing.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["HostKeyPolicy", "KeySource", "SSHOptions", "expand", "is_key_material", "parse_policy"]

#: A private key: a path to a key file (``str`` or ``os.PathLike``; ``~`` is expanded), or the key itself
#: (``bytes``, or a ``str`` holding a PEM/OpenSSH/PuTTY key block).
KeySource: TypeAlias = str | os.PathLike[str] | bytes

_KEY_MARKERS = ("-----BEGIN ", "PuTTY-User-Key-File-")


def expand(path: str | os.PathLike[str]) -> str:
    """``path`` as a string with ``~`` expanded (string work only, no I/O)."""
    return os.path.expanduser(os.fspath(path))


def is_key_material(source: KeySource) -> bool:
    """Whether ``source`` is key material itself rather than the path of a key file."""
    if isinstance(source, bytes):
        return True
    return isinstance(source, str) and any(m in source for m in _KEY_MARKERS)


class HostKeyPolicy(StrEnum):
    """What to do with the SSH host key a node presents. There is deliberately no "accept anything".

    Attributes:
        KNOWN_HOSTS: The default and the strict one: the host key must already be in the ``known_hosts``
            file (``~/.ssh/known_hosts`` unless another file is named). An unknown host and a changed
            key are both refused, and the deployment fails at once (no retries).
        ACCEPT_NEW: Trust on first use, as OpenSSH's ``StrictHostKeyChecking=accept-new``: the key of a
            host that has no entry in the ``known_hosts`` file is accepted and appended to that file
            (created if missing); a host whose recorded key differs is still refused. Use it with a
            ``known_hosts`` file of its own for freshly created nodes (cloud addresses are reused, so
            stale entries in your personal file would make new nodes look like impostors).
    """

    KNOWN_HOSTS = "known_hosts"
    ACCEPT_NEW = "accept-new"


def parse_policy(value: HostKeyPolicy | str) -> HostKeyPolicy:
    """``value`` as a :class:`HostKeyPolicy` (its member or its string value)."""
    try:
        return HostKeyPolicy(value)
    except ValueError:
        raise ConfigurationError(
            f"host_key_policy must be one of {[p.value for p in HostKeyPolicy]}, got {value!r}"
        ) from None


def _check_seconds(name: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")


@dataclass(frozen=True, kw_only=True, repr=False)
class SSHOptions:
    """How :func:`~asynccloud.deployment.run_deployment` and :func:`~asynccloud.provision` reach a node.

    Secrets (``passphrase``, key material given inline) never appear in ``repr``, logs or error
    messages, and the object refuses to be pickled.

    Args:
        username: The login user.
        key: The private key(s) to log in with: a path, key material, or a sequence of them. Supported:
            ed25519, ECDSA and RSA keys in OpenSSH, PKCS#1/PKCS#8 PEM or PuTTY format, encrypted ones
            with ``passphrase``. ``None`` uses the ssh-agent (``agent``, else ``$SSH_AUTH_SOCK``) and the
            default identities ``~/.ssh/id_ed25519``, ``~/.ssh/id_ecdsa`` and ``~/.ssh/id_rsa``, like ``ssh``.
            Keys are loaded (and decrypted) before any node is created: a wrong path or passphrase raises
            :class:`~asynccloud.errors.ConfigurationError` up front.
        passphrase: Decrypts encrypted keys.
        agent: Path of an ssh-agent socket. With ``key=None`` it defaults to ``$SSH_AUTH_SOCK``; with an
            explicit ``key`` the agent is only used when named here.
        port: The SSH port.
        interface: Which node addresses to connect to: ``"public_ips"`` or ``"private_ips"``.
        known_hosts: The known_hosts file; ``~/.ssh/known_hosts`` by default.
        host_key_policy: See :class:`HostKeyPolicy`; strict ``KNOWN_HOSTS`` by default.
        connect_timeout: Seconds one connection attempt (TCP connect, handshake and login) may take.
        max_tries: Connection attempts before giving up on transient failures (refused, reset,
            timed out, unreachable). Fatal failures (authentication or host key refused) are never retried.
        retry_delay: The pause after the first failed attempt; it doubles after each attempt, up to 10 s.
        timeout: Seconds from the first attempt after which no new attempt starts (``None``: no limit).
    """

    username: str = "root"
    key: KeySource | Sequence[KeySource] | None = None
    passphrase: str | None = field(default=None, repr=False)
    agent: str | os.PathLike[str] | None = None
    port: int = 22
    interface: Literal["public_ips", "private_ips"] = "public_ips"
    known_hosts: str | os.PathLike[str] | None = None
    host_key_policy: HostKeyPolicy = HostKeyPolicy.KNOWN_HOSTS
    connect_timeout: float = 10.0
    max_tries: int = 10
    retry_delay: float = 1.0
    timeout: float | None = 600.0

    def __post_init__(self) -> None:
        if not isinstance(self.username, str) or not self.username:
            raise ConfigurationError("username must be a non-empty string")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ConfigurationError(f"port must be an int between 1 and 65535, got {self.port!r}")
        if self.interface not in ("public_ips", "private_ips"):
            raise ConfigurationError(
                f"interface must be 'public_ips' or 'private_ips', got {self.interface!r}"
            )
        object.__setattr__(self, "host_key_policy", parse_policy(self.host_key_policy))
        if isinstance(self.max_tries, bool) or not isinstance(self.max_tries, int) or self.max_tries < 1:
            raise ConfigurationError(f"max_tries must be an int >= 1, got {self.max_tries!r}")
        _check_seconds("connect_timeout", self.connect_timeout)
        _check_seconds("retry_delay", self.retry_delay)
        _check_seconds("timeout", self.timeout, allow_none=True)
        for source in self.keys:
            if not isinstance(source, str | bytes | os.PathLike) or not source:
                raise ConfigurationError(
                    "key must be a key file path or key material (or a sequence of them)"
                )

    @property
    def keys(self) -> tuple[KeySource, ...]:
        """The explicit keys as a tuple (empty when ``key`` is ``None``)."""
        if self.key is None:
            return ()
        if isinstance(self.key, str | bytes | os.PathLike):
            return (self.key,)
        return tuple(self.key)

    def describe_keys(self) -> str:
        """The keys for messages: file paths as they are, inline material as ``<private key>``."""
        if self.key is None:
            return "the ssh-agent and default identities"
        shown = ["<private key>" if is_key_material(k) else repr(os.fspath(k)) for k in self.keys]
        return ", ".join(shown)

    def __repr__(self) -> str:
        parts = [f"username={self.username!r}", f"key={self.describe_keys()}"]
        if self.passphrase is not None:
            parts.append("passphrase=***")
        if self.agent is not None:
            parts.append(f"agent={os.fspath(self.agent)!r}")
        parts += [
            f"port={self.port}",
            f"interface={self.interface!r}",
            f"known_hosts={None if self.known_hosts is None else os.fspath(self.known_hosts)!r}",
            f"host_key_policy={self.host_key_policy.value!r}",
        ]
        return f"SSHOptions({', '.join(parts)})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("SSHOptions cannot be pickled: they may hold a private key or its passphrase")
