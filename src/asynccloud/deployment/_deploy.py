"""The deployment flow: create a node, wait until it runs, connect over SSH, run the steps.

asyncssh (imported by :mod:`._connect`, only once a deployment actually runs) supports asyncio only, so
every entry point checks the running event loop first and raises
:class:`~asynccloud.errors.NotSupportedError` on trio, before anything is created.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Literal

import anyio
import sniffio

from asynccloud.deployment._options import HostKeyPolicy, SSHOptions, parse_policy
from asynccloud.deployment.steps import Deployment
from asynccloud.errors import ConfigurationError, DeploymentError, NotSupportedError

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from asynccloud.deployment._connect import Credentials
    from asynccloud.deployment._options import KeySource
    from asynccloud.drivers.base import ComputeDriver
    from asynccloud.models import Node

__all__ = ["deploy_node", "deploy_with", "prepare", "require_asyncio", "run_deployment"]

logger = logging.getLogger("asynccloud.deployment")


def require_asyncio(provider: str) -> None:
    """Raise :class:`NotSupportedError` unless running on asyncio (asyncssh's only event loop)."""
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        library = "no event loop"
    if library != "asyncio":
        raise NotSupportedError(
            provider,
            f"SSH deployment on {library}",
            "deployment uses asyncssh, which runs on asyncio only; run this part of the program on "
            "asyncio (e.g. anyio.run(main, backend='asyncio')). Everything else in asynccloud runs on trio.",
        )


def _check_step(deploy: object) -> Deployment:
    if not isinstance(deploy, Deployment):
        raise ConfigurationError(
            "deploy must be a deployment step (asynccloud.deployment.Deployment), "
            f"not {type(deploy).__name__}"
        )
    return deploy


async def prepare(provider: str, options: SSHOptions) -> Credentials:
    """Check the event loop and load the SSH credentials: everything that can fail before a node exists."""
    require_asyncio(provider)
    from asynccloud.deployment._connect import load_credentials  # asyncssh: only now

    return await load_credentials(options)


async def deploy_with(
    node: Node, addresses: Sequence[str], deploy: Deployment, options: SSHOptions, creds: Credentials
) -> Node:
    """Connect to a running node and run ``deploy`` on it; the connection is closed afterwards.

    Raises:
        DeploymentError: Connecting or a step failed; carries ``node``.
    """
    from asynccloud.deployment._connect import open_client

    client = await open_client(node, addresses, options, creds)
    try:
        result = await deploy.run(node, client)
    except DeploymentError as exc:
        if exc.node is None:
            exc.node = node
        raise
    except Exception as exc:
        raise DeploymentError(
            f"node {node.name!r}: deployment step {deploy!r} failed: {type(exc).__name__}: {exc}", node
        ) from exc
    finally:
        await client.aclose()
    return result


async def run_deployment(
    node: Node,
    deploy: Deployment,
    ssh: SSHOptions | None = None,
    *,
    addresses: Sequence[str] | None = None,
) -> Node:
    """Run deployment steps on an existing, running node.

    asyncio only (asyncssh); on trio this raises :class:`~asynccloud.errors.NotSupportedError`.

    Args:
        node: The node.
        deploy: The step (a :class:`MultiStepDeployment` for several).
        ssh: How to connect; ``SSHOptions()`` (root, ssh-agent and default keys, strict known_hosts) when
            omitted.
        addresses: Addresses to try; by default the node's ``ssh.interface`` addresses.

    Returns:
        The node as the steps returned it.

    Raises:
        ConfigurationError: The keys cannot be loaded (nothing was attempted).
        DeploymentError: Connecting or a step failed; carries ``node``.
        NotSupportedError: Not running on asyncio.
    """
    options = ssh if ssh is not None else SSHOptions()
    creds = await prepare("asynccloud.deployment", options)
    found = list(addresses) if addresses is not None else list(getattr(node, options.interface))
    return await deploy_with(node, found, _check_step(deploy), options, creds)


async def deploy_node(
    driver: ComputeDriver,
    *,
    deploy: Deployment,
    ssh_username: str = "root",
    ssh_key: KeySource | Sequence[KeySource] | None = None,
    ssh_key_passphrase: str | None = None,
    ssh_agent: str | os.PathLike[str] | None = None,
    ssh_port: int = 22,
    ssh_timeout: float = 10.0,
    timeout: float = 600.0,
    max_tries: int = 10,
    ssh_interface: Literal["public_ips", "private_ips"] = "public_ips",
    known_hosts: str | os.PathLike[str] | None = None,
    host_key_policy: HostKeyPolicy | str = HostKeyPolicy.KNOWN_HOSTS,
    wait_period: float = 5.0,
    **create_node_kwargs: Any,
) -> Node:
    """Create a node, wait until it runs, connect over SSH and run ``deploy`` on it.

    Credentials are loaded first, so a missing key file or a wrong passphrase fails before anything is
    created. Connection attempts that fail transiently (refused, reset, timed out, unreachable: the
    node is still booting) are retried; a rejected key or an untrusted host key fails at once.

    On failure the node is **not** destroyed: the :class:`~asynccloud.errors.DeploymentError` carries it
    (``err.node``) so you can inspect it, retry, or ``await err.node.destroy()``. Use
    :func:`asynccloud.provision` with ``rollback_on_error=True`` for automatic clean-up. If the call is
    cancelled after the node was created, the node is left as it is and a warning is logged with its id.

    asyncio only (asyncssh); on trio this raises :class:`~asynccloud.errors.NotSupportedError` before
    creating anything.

    Args:
        driver: Any compute driver.
        deploy: The step to run (a :class:`MultiStepDeployment` for several).
        ssh_username: The login user.
        ssh_key: Private key file path(s) or key material; ``None`` uses the ssh-agent and the default
            identities (see :class:`SSHOptions`).
        ssh_key_passphrase: Decrypts encrypted keys.
        ssh_agent: Path of an ssh-agent socket (default ``$SSH_AUTH_SOCK`` when ``ssh_key`` is ``None``).
        ssh_port: The SSH port.
        ssh_timeout: Seconds one connection attempt may take.
        timeout: Seconds for the node to be running and reachable over SSH (the steps have their own).
        max_tries: Connection attempts before giving up on transient failures.
        ssh_interface: ``"public_ips"`` or ``"private_ips"``: where to connect.
        known_hosts: The known_hosts file (``~/.ssh/known_hosts`` by default).
        host_key_policy: ``HostKeyPolicy.KNOWN_HOSTS`` (default, strict) or ``HostKeyPolicy.ACCEPT_NEW``.
        wait_period: Seconds between polls while waiting for the node to run.
        **create_node_kwargs: Passed to ``driver.create_node`` (``name``, ``size``, ``image``, ...).

    Returns:
        The running node, after the steps ran.

    Raises:
        ConfigurationError: Bad arguments or unusable keys (nothing was created).
        NotSupportedError: Not running on asyncio (nothing was created).
        ProviderError: ``create_node`` failed (nothing to carry).
        DeploymentError: The node did not come up, could not be reached, or a step failed; carries it.
    """
    step = _check_step(deploy)
    options = SSHOptions(
        username=ssh_username,
        key=ssh_key,
        passphrase=ssh_key_passphrase,
        agent=ssh_agent,
        port=ssh_port,
        interface=ssh_interface,
        known_hosts=known_hosts,
        host_key_policy=parse_policy(host_key_policy),
        connect_timeout=ssh_timeout,
        max_tries=max_tries,
        timeout=timeout,
    )
    creds = await prepare(driver.provider, options)
    deadline = anyio.current_time() + timeout
    node = await driver.create_node(**create_node_kwargs)
    try:
        try:
            ((node, addresses),) = await driver.wait_until_running(
                [node], wait_period=wait_period, timeout=timeout, ssh_interface=ssh_interface
            )
        except Exception as exc:
            raise DeploymentError(
                f"node {node.name!r} ({node.id}) did not come up: {type(exc).__name__}: {exc}", node
            ) from exc
        left = max(deadline - anyio.current_time(), ssh_timeout)
        return await deploy_with(node, addresses, step, dataclasses.replace(options, timeout=left), creds)
    except BaseException as exc:
        if not isinstance(exc, Exception):  # cancelled or interrupted: say what stays behind
            logger.warning(
                "deploy_node interrupted (%s); node %r (%s) was created and is left as it is",
                type(exc).__name__, node.name, node.id,
            )  # fmt: skip
        raise
