"""Start and stop the real third-party servers that integration tests run against (127.0.0.1 only).

Each server has a start script in ``scripts/servers/start-<name>.sh`` that installs what it needs (into
``.servers-venv/`` or with apt/npm), starts the server on the given port in the background, waits until it
answers, and prints ``key=value`` lines (``endpoint=...``, credentials, ...); ``start-<name>.sh stop``
stops it.
Session fixtures use :func:`running_server`, so a server starts once per test run and is always stopped.
"""

from __future__ import annotations

import os
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts" / "servers"
STATE = Path(os.environ.get("ASYNCCLOUD_SERVERS_STATE", "/tmp/asynccloud-servers"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    name: str, *, port: int | None = None, env: Mapping[str, str] | None = None, timeout: float = 600
) -> Iterator[dict[str, str]]:
    """Start ``scripts/servers/start-<name>.sh`` on a free port; yield its ``key=value`` output; stop it.

    Raises:
        RuntimeError: The script failed (its output is in the message).
    """
    port = port or free_port()
    pidfile = STATE / f"{name}-{port}.pid"
    full_env = {**os.environ, "PIDFILE": str(pidfile), "SERVERS_STATE": str(STATE), **(env or {})}
    script = SCRIPTS / f"start-{name}.sh"
    STATE.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["bash", str(script), str(port)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    try:
        if result.returncode != 0:
            raise RuntimeError(
                f"{script.name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        info = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        info.setdefault("port", str(port))
        yield info
    finally:
        subprocess.run(
            ["bash", str(script), "stop"],
            capture_output=True,
            env=full_env,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
