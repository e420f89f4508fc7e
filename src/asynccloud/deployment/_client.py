"""The SSH connection deployment steps run on: commands and SFTP file operations on one node.

:class:`SSHClient` wraps an open asyncssh connection. This module does not import asyncssh when it is
imported (only inside methods, when a connection exists), so importing it for the type, when writing a
custom step, stays cheap. Every failure of an operation surfaces as
:class:`~asynccloud.errors.DeploymentError` carrying the node.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

from asynccloud.errors import DeploymentError

if TYPE_CHECKING:
    from collections.abc import AsyncIterable

    import asyncssh

    from asynccloud.models import Node

__all__ = ["CommandResult", "SSHClient"]

logger = logging.getLogger("asynccloud.deployment")

_CHUNK = 256 * 1024


@dataclass(frozen=True)
class CommandResult:
    """What a remote command produced.

    Attributes:
        stdout: Standard output, decoded as UTF-8 (undecodable bytes replaced).
        stderr: Standard error, decoded the same way.
        exit_status: The exit status; ``-1`` when the command was killed by a signal, timed out or the
            server did not report a status.
        timed_out: The command was stopped because its timeout passed.
    """

    stdout: str
    stderr: str
    exit_status: int
    timed_out: bool = False


class SSHClient:
    """One open SSH connection to a node; what :meth:`Deployment.run` receives.

    Relative remote paths are relative to the login user's home directory (where SFTP sessions and
    commands start). An SFTP session is opened on the first file operation and closed with the client.

    Args:
        connection: An open ``asyncssh.SSHClientConnection``.
        node: The node it leads to (carried by every error).
        host: The address connected to.
        port: The port connected to.
        username: The login user.
    """

    def __init__(
        self, connection: asyncssh.SSHClientConnection, node: Node, *, host: str, port: int, username: str
    ) -> None:
        self._conn = connection
        self._sftp: asyncssh.SFTPClient | None = None
        self.node = node
        self.host = host
        self.port = port
        self.username = username

    def __repr__(self) -> str:
        return f"<SSHClient {self.target} node={self.node.name!r}>"

    @property
    def target(self) -> str:
        """``user@host:port``, for messages."""
        return f"{self.username}@{self.host}:{self.port}"

    def _fail(self, what: str, exc: BaseException) -> NoReturn:
        detail = str(exc) or type(exc).__name__
        raise DeploymentError(
            f"{what} on node {self.node.name!r} ({self.target}) failed: {type(exc).__name__}: {detail}",
            self.node,
        ) from exc

    async def _session(self) -> asyncssh.SFTPClient:
        if self._sftp is None:
            try:
                self._sftp = await self._conn.start_sftp_client()
            except Exception as exc:
                self._fail("opening an SFTP session", exc)
        return self._sftp

    async def run(self, command: str, *, timeout: float | None = None) -> CommandResult:
        """Run a shell command and collect its output; a non-zero exit is not an error here.

        Args:
            command: The command line, as the remote shell reads it (quote arguments with ``shlex``).
            timeout: Seconds after which the command is stopped and ``timed_out`` is set.

        Returns:
            The output and exit status.

        Raises:
            DeploymentError: The command could not be started or the connection broke.
        """
        try:
            done: Any = await self._conn.run(
                command, check=False, timeout=timeout, encoding="utf-8", errors="replace"
            )
        except TimeoutError as exc:  # asyncssh.TimeoutError: carries the partial output
            return CommandResult(
                _text(getattr(exc, "stdout", "")), _text(getattr(exc, "stderr", "")), -1, timed_out=True
            )
        except Exception as exc:
            self._fail(f"running a command ({len(command)} characters)", exc)
        status = done.exit_status
        return CommandResult(_text(done.stdout), _text(done.stderr), -1 if status is None else int(status))

    async def put(self, path: str, data: bytes | AsyncIterable[bytes], *, mode: int | None = None) -> None:
        """Write a remote file (replacing it) from bytes or an async iterable of bytes.

        Args:
            path: The remote path.
            data: The content.
            mode: Permission bits to set (e.g. ``0o755``); the server's default when ``None``.
        """
        import asyncssh  # already loaded: this client wraps one of its connections

        sftp = await self._session()
        # A new file gets ``mode`` from the start (no window with wider permissions); the chmod below
        # also covers an existing file and the server's umask.
        attrs = asyncssh.SFTPAttrs(permissions=mode) if mode is not None else asyncssh.SFTPAttrs()
        try:
            async with sftp.open(path, "wb", attrs) as remote:
                if isinstance(data, bytes):
                    await remote.write(data)
                else:
                    async for chunk in data:
                        await remote.write(chunk)
            if mode is not None:
                await sftp.chmod(path, mode)
        except Exception as exc:
            self._fail(f"writing {path!r}", exc)

    async def put_file(
        self, local_path: str | os.PathLike[str], path: str, *, mode: int | None = None
    ) -> None:
        """Upload a local file, streamed in chunks (read in a worker thread, never on the event loop).

        Args:
            local_path: The local file (``~`` is expanded).
            path: The remote path.
            mode: Permission bits to set; by default those of the local file.
        """
        source = anyio.Path(os.path.expanduser(local_path))  # noqa: ASYNC240 - string work, no I/O
        try:
            local_mode = (await source.stat()).st_mode & 0o7777
            handle = await anyio.open_file(source, "rb")
        except OSError as exc:
            raise DeploymentError(
                f"cannot read local file {str(source)!r} for node {self.node.name!r}: {exc.strerror}",
                self.node,
            ) from exc

        async def chunks() -> AsyncIterable[bytes]:
            while chunk := await handle.read(_CHUNK):
                yield chunk

        try:
            await self.put(path, chunks(), mode=local_mode if mode is None else mode)
        finally:
            with anyio.CancelScope(shield=True):
                await handle.aclose()

    async def read(self, path: str) -> bytes:
        """The content of a remote file."""
        sftp = await self._session()
        try:
            async with sftp.open(path, "rb") as remote:
                data: bytes = await remote.read()
        except Exception as exc:
            self._fail(f"reading {path!r}", exc)
        return data

    async def exists(self, path: str) -> bool:
        """Whether a remote path exists."""
        sftp = await self._session()
        try:
            return await sftp.exists(path)
        except Exception as exc:
            self._fail(f"checking {path!r}", exc)

    async def mkdir(self, path: str, *, mode: int = 0o700) -> None:
        """Create a remote directory and its parents; an existing one is left as it is."""
        sftp = await self._session()
        try:
            if not await sftp.isdir(path):
                await sftp.makedirs(path, exist_ok=True)
                await sftp.chmod(path, mode)
        except Exception as exc:
            self._fail(f"creating directory {path!r}", exc)

    async def chmod(self, path: str, mode: int) -> None:
        """Change a remote path's permission bits."""
        sftp = await self._session()
        try:
            await sftp.chmod(path, mode)
        except Exception as exc:
            self._fail(f"changing the mode of {path!r}", exc)

    async def remove(self, path: str) -> None:
        """Delete a remote file; a missing one is not an error."""
        sftp = await self._session()
        try:
            if await sftp.exists(path):
                await sftp.remove(path)
        except Exception as exc:
            self._fail(f"removing {path!r}", exc)

    async def aclose(self) -> None:
        """Close the SFTP session and the connection, and wait for them to be closed.

        Safe to call from a cancelled task: the wait is shielded and bounded.
        """
        with anyio.CancelScope(shield=True), anyio.move_on_after(5):
            if self._sftp is not None:
                self._sftp.exit()
                try:
                    await self._sftp.wait_closed()
                except Exception:  # a broken connection: closing it below is all that is left
                    logger.debug("SFTP session to %s did not close cleanly", self.target, exc_info=True)
                self._sftp = None
            self._conn.close()
            await self._conn.wait_closed()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
