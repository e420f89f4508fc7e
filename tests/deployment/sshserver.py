"""A real SSH server on 127.0.0.1, run in-process with asyncssh, for deployment tests and the example.

Commands run through ``/bin/sh`` in a subprocess whose working directory (and ``HOME``) is the server's
root directory; SFTP is enabled and chrooted to the same directory, so relative remote paths of
commands and file transfers agree, as they do on a real server (both start in the home directory).
A command whose channel closes (the client timed out) is killed with its process group.

Failure injection: ``drop_first=N`` resets the first N TCP connections at once (a server that is not
ready yet); :meth:`start` can be called late on a fixed port (connection refused until then).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from typing import TYPE_CHECKING, Any

import asyncssh

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["SSHTestServer", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SSHTestServer:
    """An asyncssh server accepting the given client keys for any user name.

    Args:
        root: The "home directory": commands run here, SFTP is chrooted here.
        client_keys: Public (or private) keys allowed to log in.
        host_key: The server's host key; a fresh ed25519 key by default.
        port: The port; ``0`` picks a free one on :meth:`start`.
        drop_first: Reset this many connections right after they are accepted.
    """

    def __init__(
        self,
        root: Path,
        client_keys: list[asyncssh.SSHKey],
        *,
        host_key: asyncssh.SSHKey | None = None,
        port: int = 0,
        drop_first: int = 0,
    ) -> None:
        self.root = root
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.port = port
        self.drop_first = drop_first
        self.connections = 0  # TCP connections accepted (dropped ones included)
        self.commands: list[str] = []
        self._authorized = asyncssh.import_authorized_keys(
            "".join(k.export_public_key().decode() for k in client_keys)
        )
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._open: set[asyncssh.SSHServerConnection] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self._reapers: set[asyncio.Future[Any]] = set()

    def known_hosts_line(self, key: asyncssh.SSHKey | None = None) -> str:
        """The known_hosts entry for this server (with another key, to fake a changed host key)."""
        public = (key or self.host_key).export_public_key("openssh").decode().strip()
        return f"[127.0.0.1]:{self.port} {public}\n"

    async def start(self) -> None:
        """Start listening."""
        self.root.mkdir(parents=True, exist_ok=True)
        owner = self

        class _Server(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                owner.connections += 1
                if owner.connections <= owner.drop_first:
                    conn.abort()
                    return
                owner._open.add(conn)

            def connection_lost(self, exc: Exception | None) -> None:
                owner._open = {c for c in owner._open if not c.is_closed()}

        self._acceptor = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            authorized_client_keys=self._authorized,
            server_factory=_Server,
            process_factory=self._handle,
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=os.fsencode(self.root)),
            allow_scp=False,
            config=None,
        )
        self.port = self._acceptor.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        for conn in list(self._open):
            conn.close()
            await conn.wait_closed()
        self._open.clear()
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        # Command handlers still finishing (their connection just closed), then the commands they killed.
        for pending in (self._handlers, self._reapers):
            while pending:
                await asyncio.wait(set(pending))

    async def __aenter__(self) -> SSHTestServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _handle(self, process: asyncssh.SSHServerProcess[Any]) -> None:
        command = process.command or "true"
        self.commands.append(command)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        proc = await asyncio.create_subprocess_shell(
            command,
            cwd=self.root,
            env={**os.environ, "HOME": str(self.root)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        finished = asyncio.ensure_future(proc.communicate())  # reads both pipes to their end
        try:
            closed = asyncio.ensure_future(process.wait_closed())
            await asyncio.wait({finished, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not finished.done():  # the client went away (e.g. its timeout): stop the command
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                # asyncio.wait, not await: a cancellation here must not cancel the pipe readers.
                await asyncio.wait({finished, closed})
                return
            closed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closed
            out, err = finished.result()
            process.stdout.write(out.decode("utf-8", "replace"))
            process.stderr.write(err.decode("utf-8", "replace"))
            process.exit(proc.returncode if proc.returncode is not None else 255)
        finally:
            # asyncssh cancels this handler when the connection closes (the client's cancel scope, the
            # server stopping): whatever point we got to, kill the command and reap it in a task of its
            # own that stop() waits for, or the process and its transport warn when collected later.
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            reaper = asyncio.gather(finished, proc.wait(), return_exceptions=True)
            self._reapers.add(reaper)
            reaper.add_done_callback(self._reapers.discard)
