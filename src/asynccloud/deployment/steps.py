"""Deployment steps: what to do on a node once an SSH connection to it is open.

A step is an object with ``async def run(node, client) -> Node``; subclass :class:`Deployment` to write
your own. The built-in steps:

- :class:`SSHKeyDeployment` adds a public key to ``~/.ssh/authorized_keys``;
- :class:`FileDeployment` uploads a local file (SFTP);
- :class:`ScriptDeployment` uploads a script, runs it and keeps ``stdout``, ``stderr`` and ``exit_status``;
- :class:`ScriptFileDeployment` does the same with a script read from a local file;
- :class:`MultiStepDeployment` runs steps in order and stops at the first failure.

Script steps remember the output of their last run. :func:`asynccloud.provision` runs a copy of the step
on each node (``outcome.deployment``), so concurrent nodes never overwrite each other's output.
"""

from __future__ import annotations

import abc
import contextlib
import os
import shlex
import uuid
from typing import TYPE_CHECKING

import anyio

from asynccloud.errors import ConfigurationError, DeploymentError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from asynccloud.deployment._client import SSHClient
    from asynccloud.models import Node

__all__ = [
    "Deployment",
    "FileDeployment",
    "MultiStepDeployment",
    "SSHKeyDeployment",
    "ScriptDeployment",
    "ScriptFileDeployment",
]

#: Output shown in an error message is cut to its last this-many characters per stream.
_OUTPUT_IN_MESSAGES = 2000


class Deployment(abc.ABC):
    """A step run on a node over SSH."""

    @abc.abstractmethod
    async def run(self, node: Node, client: SSHClient) -> Node:
        """Do the step's work on ``node`` through ``client``.

        Args:
            node: The node (running, reachable).
            client: The open connection to it.

        Returns:
            The node (steps may return an updated model).

        Raises:
            DeploymentError: The step failed; the error carries the node.
        """


class SSHKeyDeployment(Deployment):
    """Authorise a public key for the login user: append it to ``~/.ssh/authorized_keys`` once.

    Args:
        key: The public key line (``"ssh-ed25519 AAAA... comment"``), or a ``KeyPair``'s ``public_key``.
    """

    def __init__(self, key: str) -> None:
        key = key.strip() if isinstance(key, str) else key
        if not isinstance(key, str) or not key or "\n" in key:
            raise ConfigurationError("SSHKeyDeployment needs one public key line")
        self.key = key

    def __repr__(self) -> str:
        return f"SSHKeyDeployment({self.key.split(' ', 2)[0]!r} key)"

    async def run(self, node: Node, client: SSHClient) -> Node:
        """Append the key unless it is already authorised."""
        await client.mkdir(".ssh", mode=0o700)
        path = ".ssh/authorized_keys"
        existing = (await client.read(path)).decode("utf-8", "replace") if await client.exists(path) else ""
        wanted = self.key.split()[:2]
        if any(line.split()[:2] == wanted for line in existing.splitlines() if line.strip()):
            return node
        separator = "" if not existing or existing.endswith("\n") else "\n"
        await client.put(path, f"{existing}{separator}{self.key}\n".encode(), mode=0o600)
        return node


class FileDeployment(Deployment):
    """Upload a local file to the node over SFTP.

    Args:
        source: The local file (``~`` is expanded); read in a worker thread, streamed in chunks.
        target: The remote path; relative paths are relative to the login user's home.
        mode: Permission bits of the remote file; by default those of the local file.
    """

    def __init__(self, source: str | os.PathLike[str], target: str, *, mode: int | None = None) -> None:
        self.source = os.fspath(source)
        self.target = target
        self.mode = mode

    def __repr__(self) -> str:
        return f"FileDeployment({self.source!r}, {self.target!r})"

    async def run(self, node: Node, client: SSHClient) -> Node:
        """Upload the file."""
        await client.put_file(self.source, self.target, mode=self.mode)
        return node


class ScriptDeployment(Deployment):
    """Upload a script, run it, and keep what it printed and how it exited.

    The script is written to ``name`` (mode 0755) and run as an executable, so start it with a
    ``#!`` line (``#!/bin/sh`` is assumed by the shell when there is none).

    Args:
        script: The script's text.
        args: Arguments passed to it (each shell-quoted).
        name: Remote path of the script; by default a fresh ``deployment_<random>.sh`` in the home
            directory for every run (so runs never collide), recorded in ``name`` when the run starts.
        delete: Remove the script after it ran (also when it failed).
        timeout: Seconds the script may run; then it is stopped and the step fails.
        check: Raise :class:`~asynccloud.errors.DeploymentError` when the exit status is not 0. With
            ``check=False`` a non-zero exit is kept in ``exit_status`` and the deployment goes on.

    Attributes:
        stdout: The script's standard output after :meth:`run` (``None`` before).
        stderr: Its standard error.
        exit_status: Its exit status (``-1`` when killed by a signal or timed out).
    """

    def __init__(
        self,
        script: str,
        args: Sequence[str] = (),
        name: str | None = None,
        delete: bool = False,
        timeout: float | None = None,
        *,
        check: bool = True,
    ) -> None:
        if not isinstance(script, str):
            raise ConfigurationError(
                "ScriptDeployment needs the script's text (use ScriptFileDeployment for a file)"
            )
        if isinstance(args, str):
            raise ConfigurationError("args must be a sequence of strings, not one string")
        self.script = script
        self.args = [str(a) for a in args]
        self.name = name
        self._fresh_name = name is None
        self.delete = delete
        self.timeout = timeout
        self.check = check
        self.stdout: str | None = None
        self.stderr: str | None = None
        self.exit_status: int | None = None

    def __repr__(self) -> str:
        # Neither the script nor its arguments: either may carry secrets.
        return f"{type(self).__name__}(name={self.name!r})"

    async def _script_text(self, node: Node) -> str:
        return self.script

    async def run(self, node: Node, client: SSHClient) -> Node:
        """Upload and run the script; see the class docstring for ``check`` and ``timeout``."""
        text = await self._script_text(node)
        self.stdout = self.stderr = self.exit_status = None
        if self._fresh_name or self.name is None:
            self.name = f"deployment_{uuid.uuid4().hex[:12]}.sh"
        name = self.name
        await client.put(name, text.encode("utf-8"), mode=0o755)
        try:
            command = shlex.join([name if "/" in name else f"./{name}", *self.args])
            result = await client.run(command, timeout=self.timeout)
        finally:
            if self.delete:
                await _remove_quietly(client, name)
        self.stdout, self.stderr, self.exit_status = result.stdout, result.stderr, result.exit_status
        if result.timed_out:
            raise DeploymentError(
                f"script {name!r} on node {node.name!r} timed out after {self.timeout:g} s"
                f"{_output(result.stdout, result.stderr)}",
                node,
            )
        if self.check and result.exit_status != 0:
            raise DeploymentError(
                f"script {name!r} on node {node.name!r} exited with status {result.exit_status}"
                f"{_output(result.stdout, result.stderr)}",
                node,
            )
        return node


class ScriptFileDeployment(ScriptDeployment):
    """A :class:`ScriptDeployment` whose script is read from a local file when the step runs.

    Args:
        script_file: The local script (``~`` is expanded), read in a worker thread.
        args: Arguments passed to it.
        name: Remote path; by default the local file's name in the home directory.
        delete: Remove the script after it ran.
        timeout: Seconds the script may run.
        check: Raise when the exit status is not 0.
    """

    def __init__(
        self,
        script_file: str | os.PathLike[str],
        args: Sequence[str] = (),
        name: str | None = None,
        delete: bool = False,
        timeout: float | None = None,
        *,
        check: bool = True,
    ) -> None:
        self.script_file = os.path.expanduser(os.fspath(script_file))
        super().__init__("", args, name or os.path.basename(self.script_file), delete, timeout, check=check)

    async def _script_text(self, node: Node) -> str:
        try:
            return await anyio.Path(self.script_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DeploymentError(f"cannot read script file {self.script_file!r}: {exc}", node) from exc


class MultiStepDeployment(Deployment):
    """Run several steps in order on the same connection; the first failure stops the rest.

    Args:
        add: The steps (more can be added with :meth:`add`).
    """

    def __init__(self, add: Deployment | Iterable[Deployment] | None = None) -> None:
        self.steps: list[Deployment] = []
        if add is not None:
            self.add(add)

    def __repr__(self) -> str:
        return f"MultiStepDeployment({self.steps!r})"

    def add(self, add: Deployment | Iterable[Deployment]) -> None:
        """Append a step or several."""
        steps = [add] if isinstance(add, Deployment) else list(add)
        for step in steps:
            if not isinstance(step, Deployment):
                raise ConfigurationError(f"not a deployment step: {type(step).__name__}")
        self.steps.extend(steps)

    async def run(self, node: Node, client: SSHClient) -> Node:
        """Run every step in order."""
        for step in self.steps:
            node = await step.run(node, client)
        return node


async def _remove_quietly(client: SSHClient, path: str) -> None:
    # Cleanup after a script must not hide the script's own outcome.
    with contextlib.suppress(DeploymentError):
        await client.remove(path)


def _output(stdout: str, stderr: str) -> str:
    def tail(text: str) -> str:
        text = text.rstrip()
        return text if len(text) <= _OUTPUT_IN_MESSAGES else "..." + text[-_OUTPUT_IN_MESSAGES:]

    return f"\n--- stdout ---\n{tail(stdout)}\n--- stderr ---\n{tail(stderr)}"
