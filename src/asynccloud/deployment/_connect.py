"""Opening SSH connections to nodes: keys, the host-key policy, and retries that know transient from fatal.

This is where asyncssh is imported; :mod:`asynccloud.deployment` imports this module only when a
deployment runs. asyncssh runs on asyncio only.

Transient failures (the node is still booting, or the network hiccupped) are retried with a doubling
pause: connection refused, reset or aborted, timed out, host or network unreachable, and the server
closing the connection during the handshake. Everything else is fatal and fails at once: the server
rejected authentication, the host key is unknown or changed, or the protocol failed.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import anyio
import anyio.to_thread
import asyncssh

from asynccloud.deployment._client import SSHClient
from asynccloud.deployment._options import HostKeyPolicy, SSHOptions, expand, is_key_material
from asynccloud.errors import ConfigurationError, DeploymentError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from asynccloud.deployment._options import KeySource
    from asynccloud.models import Node

__all__ = ["Credentials", "load_credentials", "open_client"]

logger = logging.getLogger("asynccloud.deployment")

_DEFAULT_IDENTITIES = ("id_ed25519", "id_ecdsa", "id_rsa")
_MAX_PAUSE = 10.0
_TRANSIENT_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EHOSTUNREACH,
        errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.EPIPE, errno.EAGAIN,
    }
)  # fmt: skip
# The server went away or is not ready yet: sshd restarting, MaxStartups throttling, boot in progress.
_TRANSIENT_DISCONNECTS = frozenset(
    {
        asyncssh.DISC_CONNECTION_LOST,
        asyncssh.DISC_BY_APPLICATION,
        asyncssh.DISC_SERVICE_NOT_AVAILABLE,
        asyncssh.DISC_TOO_MANY_CONNECTIONS,
    }
)
# Appends to known_hosts files are serialised within the process (several nodes may record at once).
_KNOWN_HOSTS_LOCK = threading.Lock()


@dataclass(repr=False)
class Credentials:
    """Keys loaded (and decrypted) once, before any node is created; shared by every connection."""

    keys: list[asyncssh.SSHKey]
    agent: str | None
    known_hosts: Path
    policy: HostKeyPolicy
    secret: str | None  # the passphrase, only to scrub it from messages

    def __repr__(self) -> str:
        return f"<Credentials keys={len(self.keys)} agent={self.agent is not None}>"

    def scrub(self, text: str) -> str:
        """``text`` without the passphrase (defence in depth: asyncssh never puts it in a message)."""
        return text.replace(self.secret, "***") if self.secret else text


async def load_credentials(options: SSHOptions) -> Credentials:
    """Load and decrypt the keys ``options`` name and locate the agent and the known_hosts file.

    Raises:
        ConfigurationError: A key file is missing or unreadable, a key is encrypted and no passphrase
            or a wrong one was given, or there is no key and no agent at all.
    """
    scrub = Credentials([], None, Path(), options.host_key_policy, options.passphrase).scrub
    keys: list[asyncssh.SSHKey] = []
    for source in options.keys:
        keys.append(await _load_key(source, options.passphrase, scrub))
    agent: str | None = None
    if options.agent is not None:
        agent = expand(options.agent)
        if not await anyio.Path(agent).exists():
            raise ConfigurationError(f"ssh-agent socket {agent!r} does not exist")
    elif options.key is None:
        agent = os.environ.get("SSH_AUTH_SOCK") or None
        if agent is not None and not await anyio.Path(agent).exists():
            logger.debug("ignoring SSH_AUTH_SOCK=%r: no such socket", agent)
            agent = None
        keys.extend(await _default_identities(options.passphrase))
    if not keys and agent is None:
        raise ConfigurationError(
            "no SSH credentials: pass a private key (ssh_key=...), run an ssh-agent (SSH_AUTH_SOCK), "
            "or create ~/.ssh/id_ed25519"
        )
    known = options.known_hosts if options.known_hosts is not None else "~/.ssh/known_hosts"
    return Credentials(
        keys=keys,
        agent=agent,
        known_hosts=Path(expand(known)),
        policy=options.host_key_policy,
        secret=options.passphrase,
    )


async def _load_key(
    source: KeySource, passphrase: str | None, scrub: Callable[[str], str]
) -> asyncssh.SSHKey:
    if isinstance(source, bytes) or (isinstance(source, str) and is_key_material(source)):
        what, data = "the private key given inline", source if isinstance(source, bytes) else source.encode()
    else:
        path = anyio.Path(expand(source))
        what = f"SSH key file {str(path)!r}"
        try:
            data = await path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {what}: {exc.strerror}") from None
    try:
        # Decrypting runs a deliberately slow KDF (bcrypt, PBKDF2): keep it off the event loop.
        return await anyio.to_thread.run_sync(asyncssh.import_private_key, data, passphrase)
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        reason = scrub(str(exc))
        if "Passphrase must be specified" in reason:
            message = f"{what} is encrypted: pass its passphrase (ssh_key_passphrase=...)"
        elif isinstance(exc, asyncssh.KeyEncryptionError) or "decrypt" in reason.lower():
            message = f"cannot decrypt {what}: wrong passphrase ({reason})"
        else:
            message = f"cannot load {what}: {reason}"
        raise ConfigurationError(message) from None


async def _default_identities(passphrase: str | None) -> list[asyncssh.SSHKey]:
    found: list[asyncssh.SSHKey] = []
    for name in _DEFAULT_IDENTITIES:
        path = anyio.Path(expand(f"~/.ssh/{name}"))
        try:
            data = await path.read_bytes()
            found.append(await anyio.to_thread.run_sync(asyncssh.import_private_key, data, passphrase))
        except FileNotFoundError:
            continue
        except (OSError, asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
            # Like ssh: an identity we cannot use (encrypted, no passphrase) is skipped, not fatal.
            logger.debug("skipping default identity %s: %s", path, type(exc).__name__)
    return found


# ------------------------------------------------------------------------------------------ connecting


class _HostKeyCheck(asyncssh.SSHClient):
    """Accepts the key of a host known_hosts has no entry for (only under ``accept-new``)."""

    def __init__(self, accept_new: bool) -> None:
        self.accept_new = accept_new
        self.accepted: asyncssh.SSHKey | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        if self.accept_new:
            self.accepted = key
            return True
        return False


def _host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def _read_known_hosts(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read known_hosts file {str(path)!r}: {exc}") from None


def _is_known(known: asyncssh.SSHKnownHosts, host: str, port: int) -> bool:
    # Any entry for the host (trusted key, CA, revoked key, X.509 subject) makes it known.
    return any(asyncssh.match_known_hosts(known, host, host, port))


def _record(path: Path, host: str, port: int, key: asyncssh.SSHKey) -> str | None:
    """Append ``key`` for ``host`` unless the file knows it; returns a problem, or ``None``."""
    with _KNOWN_HOSTS_LOCK:
        text = _read_known_hosts(path)
        known = asyncssh.import_known_hosts(text)
        trusted = asyncssh.match_known_hosts(known, host, host, port)
        if key in trusted[0]:
            return None  # another connection recorded the same key meanwhile
        if any(trusted):
            return "a different host key was recorded for it while this connection was being made"
        line = f"{_host_pattern(host, port)} {key.export_public_key('openssh').decode().strip()}\n"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            if text and not text.endswith("\n"):
                f.write("\n")
            f.write(line)
        logger.info("recorded the host key of %s:%s in %s (accept-new)", host, port, path)
        return None


def is_transient(exc: BaseException) -> bool:
    """Whether a failed connection attempt is worth repeating."""
    if isinstance(exc, asyncssh.DisconnectError):
        return exc.code in _TRANSIENT_DISCONNECTS
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS


async def _agent_keys(
    creds: Credentials,
) -> tuple[asyncssh.SSHAgentClient | None, list[asyncssh.SSHKeyPair]]:
    if creds.agent is None:
        return None, []
    try:
        agent = await asyncssh.connect_agent(creds.agent)
    except (OSError, asyncssh.Error) as exc:
        logger.debug("cannot reach the ssh-agent at %r: %s", creds.agent, type(exc).__name__)
        return None, []
    try:
        return agent, list(await agent.get_keys())
    except BaseException:
        agent.close()
        raise


async def _attempt(
    node: Node, host: str, options: SSHOptions, creds: Credentials, timeout: float
) -> SSHClient:
    known_text = await anyio.to_thread.run_sync(_read_known_hosts, creds.known_hosts)
    try:
        known = asyncssh.import_known_hosts(known_text)
    except ValueError as exc:
        raise ConfigurationError(f"cannot parse known_hosts file {str(creds.known_hosts)!r}: {exc}") from None
    host_known = _is_known(known, host, options.port)
    check = _HostKeyCheck(accept_new=creds.policy is HostKeyPolicy.ACCEPT_NEW and not host_known)
    target = f"{options.username}@{host}:{options.port}"
    agent, agent_keys = await _agent_keys(creds)
    try:
        client_keys: list[asyncssh.SSHKey | asyncssh.SSHKeyPair] = [*creds.keys, *agent_keys]
        if not client_keys:
            raise ConfigurationError(f"the ssh-agent at {creds.agent!r} holds no keys")
        conn = await asyncssh.connect(
            host,
            options.port,
            username=options.username,
            client_keys=client_keys,
            agent_path=None,  # its keys are already in client_keys
            known_hosts=known,
            client_factory=lambda: check,
            config=None,  # ~/.ssh/config must not silently change where or how we connect
            connect_timeout=timeout,
            login_timeout=timeout,
            preferred_auth="publickey",
        )
    except asyncssh.HostKeyNotVerifiable as exc:
        raise _host_key_error(node, target, creds, changed=host_known) from exc
    finally:
        if agent is not None:
            agent.close()
            with anyio.CancelScope(shield=True):
                await agent.wait_closed()
    client = SSHClient(conn, node, host=host, port=options.port, username=options.username)
    if check.accepted is not None:
        try:
            problem = await anyio.to_thread.run_sync(
                _record, creds.known_hosts, host, options.port, check.accepted
            )
        except OSError as exc:
            await client.aclose()
            raise DeploymentError(
                f"node {node.name!r}: cannot record the host key of {target} in "
                f"{str(creds.known_hosts)!r}: {exc.strerror}",
                node,
            ) from exc
        except BaseException:
            await client.aclose()
            raise
        if problem:
            await client.aclose()
            raise _host_key_error(node, target, creds, changed=True)
    return client


def _host_key_error(node: Node, target: str, creds: Credentials, *, changed: bool) -> DeploymentError:
    where = str(creds.known_hosts)
    if changed:
        message = (
            f"the host key of {target} does not match the one recorded in {where!r}: a man-in-the-middle, "
            "or a new node on a reused address (then remove the stale entry); not retrying"
        )
    else:
        message = (
            f"the host key of {target} is unknown: {where!r} has no entry for it and host_key_policy is "
            f"{creds.policy.value!r}. Add the key to that file, or pass HostKeyPolicy.ACCEPT_NEW to "
            "record the key of a new host on first connection; not retrying"
        )
    return DeploymentError(f"node {node.name!r}: {message}", node)


def _fatal(exc: BaseException, node: Node, target: str, options: SSHOptions, creds: Credentials) -> NoReturn:
    reason = creds.scrub(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, asyncssh.PermissionDenied):
        message = (
            f"SSH authentication as {target} was rejected (keys tried: {options.describe_keys()}"
            f"{' and the ssh-agent' if creds.agent and options.key is not None else ''}); not retrying"
        )
    else:
        message = f"SSH connection to {target} failed ({reason}); not retrying"
    raise DeploymentError(f"node {node.name!r}: {message}", node) from exc


async def open_client(
    node: Node, addresses: Sequence[str], options: SSHOptions, creds: Credentials
) -> SSHClient:
    """Connect to ``node`` on the first of ``addresses`` that answers, retrying transient failures.

    Each round tries every address once; rounds are separated by a pause that doubles from
    ``options.retry_delay`` up to 10 s. Gives up after ``options.max_tries`` rounds, or when the next
    round would start after ``options.timeout``.

    Raises:
        DeploymentError: A fatal failure (at once), or transient failures until the tries ran out;
            carries ``node``, chained to the last asyncssh/OS error.
        ConfigurationError: The known_hosts file cannot be parsed, or the agent holds no keys.
    """
    if not addresses:
        raise DeploymentError(f"node {node.name!r} has no address on {options.interface}", node)
    started = anyio.current_time()
    deadline = None if options.timeout is None else started + options.timeout
    pause = options.retry_delay
    last: BaseException | None = None
    for attempt in range(1, options.max_tries + 1):
        for host in addresses:
            target = f"{options.username}@{host}:{options.port}"
            timeout = options.connect_timeout
            if deadline is not None:
                timeout = max(min(timeout, deadline - anyio.current_time()), 0.1)
            try:
                client = await _attempt(node, host, options, creds, timeout)
            except (ConfigurationError, DeploymentError):
                raise
            except Exception as exc:
                if not is_transient(exc):
                    _fatal(exc, node, target, options, creds)
                last = exc
                reason = creds.scrub(f"{type(exc).__name__}: {exc}")
                logger.info(
                    "ssh %s (node %s) attempt %d/%d failed: %s",
                    target, node.name, attempt, options.max_tries, reason,
                )  # fmt: skip
            else:
                logger.debug("ssh %s (node %s) connected on attempt %d", target, node.name, attempt)
                return client
        if attempt == options.max_tries:
            break
        if deadline is not None and anyio.current_time() + pause > deadline:
            break
        await anyio.sleep(pause)
        pause = min(pause * 2, _MAX_PAUSE)
    elapsed = anyio.current_time() - started
    detail = creds.scrub(f"{type(last).__name__}: {last}") if last is not None else "no attempt"
    raise DeploymentError(
        f"node {node.name!r}: could not connect over SSH to {', '.join(addresses)} port {options.port} "
        f"after {attempt} attempt(s) in {elapsed:.1f} s; last error: {detail}",
        node,
    ) from last
