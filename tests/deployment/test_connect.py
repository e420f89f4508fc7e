"""Connecting: key types and formats, the agent, transient vs fatal failures, the host-key policy, secrets."""

from __future__ import annotations

import logging
import pickle
import shutil
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import anyio
import asyncssh
import pytest

from asynccloud import ConfigurationError, DeploymentError
from asynccloud.deployment import HostKeyPolicy, ScriptDeployment, SSHOptions, run_deployment
from tests.deployment.conftest import Keys, local_node, ssh_options, write_key
from tests.deployment.sshserver import SSHTestServer, free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

pytestmark = [
    pytest.mark.anyio,
    # ssh-keygen writes encrypted keys with 16 bcrypt rounds; bcrypt warns about fewer than 50.
    pytest.mark.filterwarnings(r"ignore:.*bcrypt\.kdf\(\) called with only:UserWarning"),
]

HELLO = "#!/bin/sh\necho hello\n"
PASSPHRASE = "correct horse battery staple"


async def _hello(opts: SSHOptions) -> str | None:
    step = ScriptDeployment(HELLO)
    await run_deployment(local_node(), step, opts)
    return step.stdout


# --------------------------------------------------------------------------------------------- keys


@pytest.mark.parametrize("fmt", ["openssh", "pkcs8-pem"])
@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
async def test_encrypted_key_files_with_passphrase(
    server: SSHTestServer, tmp_path: Path, keys: Keys, known_hosts: Path, kind: str, fmt: str
) -> None:
    path = write_key(tmp_path / f"id_{kind}", getattr(keys, kind), fmt=fmt, passphrase=PASSPHRASE)
    assert await _hello(ssh_options(server, path, known_hosts, passphrase=PASSPHRASE)) == "hello\n"


async def test_key_as_bytes_and_several_keys(
    server: SSHTestServer, tmp_path: Path, keys: Keys, known_hosts: Path
) -> None:
    stranger = write_key(tmp_path / "stranger", keys.stranger)
    good = keys.rsa.export_private_key("pkcs1-pem")
    # The first key is refused by the server, the second is accepted: several keys are all offered.
    assert await _hello(ssh_options(server, [str(stranger), good], known_hosts)) == "hello\n"


async def test_wrong_or_missing_passphrase_fails_before_connecting(
    server: SSHTestServer, tmp_path: Path, keys: Keys, known_hosts: Path
) -> None:
    path = write_key(tmp_path / "id_enc", keys.ed25519, passphrase=PASSPHRASE)
    with pytest.raises(ConfigurationError, match="wrong passphrase") as caught:
        await _hello(ssh_options(server, path, known_hosts, passphrase="not it"))
    assert "not it" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="is encrypted: pass its passphrase"):
        await _hello(ssh_options(server, path, known_hosts))
    with pytest.raises(ConfigurationError, match="cannot read SSH key file"):
        await _hello(ssh_options(server, tmp_path / "nope", known_hosts))
    with pytest.raises(ConfigurationError, match="cannot load the private key given inline"):
        await _hello(ssh_options(server, b"-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n", known_hosts))
    assert server.connections == 0


async def test_rejected_key_fails_fast_without_retrying(
    server: SSHTestServer, tmp_path: Path, keys: Keys, known_hosts: Path
) -> None:
    path = write_key(tmp_path / "stranger", keys.stranger)
    node = local_node()
    started = time.monotonic()
    with pytest.raises(DeploymentError, match=r"authentication as deployer@127\.0\.0\.1") as caught:
        await run_deployment(
            node, ScriptDeployment(HELLO), ssh_options(server, path, known_hosts, max_tries=5, retry_delay=5)
        )
    assert time.monotonic() - started < 4  # a retry would have slept 5 s first
    assert server.connections == 1
    assert caught.value.node is node
    assert isinstance(caught.value.__cause__, asyncssh.PermissionDenied)


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


@pytest.fixture
def ssh_agent(tmp_path: Path) -> Iterator[str]:
    """A real ssh-agent on a socket of its own."""
    binary = shutil.which("ssh-agent")
    if binary is None:
        pytest.skip("ssh-agent is not installed")
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(
        [binary, "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 5
        while not _accepts(sock):  # the socket file appears a moment before the agent listens
            assert time.monotonic() < deadline, "ssh-agent did not start"
            time.sleep(0.01)
        yield str(sock)
    finally:
        proc.terminate()
        proc.wait(5)


async def test_agent_keys(
    server: SSHTestServer,
    keys: Keys,
    known_hosts: Path,
    ssh_agent: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    agent = await asyncssh.connect_agent(ssh_agent)
    try:
        await agent.add_keys([keys.ecdsa])
    finally:
        agent.close()
        await agent.wait_closed()
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))  # no default identities to fall back on
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)

    assert await _hello(ssh_options(server, None, known_hosts, agent=ssh_agent)) == "hello\n"
    monkeypatch.setenv("SSH_AUTH_SOCK", ssh_agent)
    assert await _hello(ssh_options(server, None, known_hosts)) == "hello\n"


async def test_no_credentials_at_all(
    server: SSHTestServer, known_hosts: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(ConfigurationError, match="no SSH credentials"):
        await _hello(ssh_options(server, None, known_hosts))
    with pytest.raises(ConfigurationError, match="ssh-agent socket"):
        await _hello(ssh_options(server, None, known_hosts, agent=tmp_path / "no.sock"))


async def test_default_identity_is_used_when_no_key_is_given(
    server: SSHTestServer, keys: Keys, known_hosts: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    write_key(home / ".ssh" / "id_ecdsa", keys.ecdsa)
    write_key(home / ".ssh" / "id_ed25519", keys.stranger, passphrase="unknown")  # skipped, like ssh does
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    assert await _hello(ssh_options(server, None, known_hosts)) == "hello\n"


# --------------------------------------------------------------------------------- transient failures


async def test_server_not_listening_yet_is_retried(
    remote: Path, tmp_path: Path, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    late = SSHTestServer(remote, [keys.ed25519], port=free_port())
    known = tmp_path / "known_hosts"
    known.write_text(late.known_hosts_line())
    opts = ssh_options(late, write_key(tmp_path / "id", keys.ed25519), known, max_tries=10, retry_delay=0.1)

    async def start_late() -> None:
        await anyio.sleep(0.5)
        await late.start()

    caplog.set_level(logging.INFO, logger="asynccloud.deployment")
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(start_late)
            assert await _hello(opts) == "hello\n"
    finally:
        await late.stop()
    refused = [r for r in caplog.records if "ConnectionRefusedError" in r.getMessage()]
    assert len(refused) >= 2


async def test_dropped_connections_are_retried(remote: Path, tmp_path: Path, keys: Keys) -> None:
    async with SSHTestServer(remote, [keys.ed25519], drop_first=2) as flaky:
        known = tmp_path / "known_hosts"
        known.write_text(flaky.known_hosts_line())
        opts = ssh_options(flaky, write_key(tmp_path / "id", keys.ed25519), known, max_tries=3)
        assert await _hello(opts) == "hello\n"
        assert flaky.connections == 3


async def test_transient_failures_give_up_after_max_tries(tmp_path: Path, key_file: Path) -> None:
    nobody = SSHTestServer(tmp_path, [], port=free_port())  # never started: connection refused
    node = local_node()
    with pytest.raises(DeploymentError, match=r"after 3 attempt\(s\)") as caught:
        await run_deployment(node, ScriptDeployment(HELLO), ssh_options(nobody, key_file, tmp_path / "kh"))
    assert caught.value.node is node
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


async def test_transient_failures_stop_at_the_timeout(tmp_path: Path, key_file: Path) -> None:
    nobody = SSHTestServer(tmp_path, [], port=free_port())
    started = time.monotonic()
    with pytest.raises(DeploymentError, match="could not connect"):
        await _hello(
            ssh_options(nobody, key_file, tmp_path / "kh", max_tries=100, retry_delay=0.2, timeout=0.5)
        )
    assert time.monotonic() - started < 3  # not 100 tries


async def test_node_without_address(server: SSHTestServer, key_file: Path, known_hosts: Path) -> None:
    node = local_node()
    node.public_ips = []
    with pytest.raises(DeploymentError, match="no address on public_ips"):
        await run_deployment(node, ScriptDeployment(HELLO), ssh_options(server, key_file, known_hosts))
    node.private_ips = ["127.0.0.1"]
    step = ScriptDeployment(HELLO)
    await run_deployment(node, step, ssh_options(server, key_file, known_hosts, interface="private_ips"))
    assert step.stdout == "hello\n"


# ----------------------------------------------------------------------------------------- host keys


async def test_unknown_host_is_refused_by_default(
    server: SSHTestServer, tmp_path: Path, key_file: Path
) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("# nothing yet\n")
    unknown = r"host key of deployer@127\.0\.0\.1:\d+ is unknown"
    for known in (empty, tmp_path / "missing_known_hosts"):
        with pytest.raises(DeploymentError, match=unknown) as caught:
            await _hello(ssh_options(server, key_file, known, max_tries=5, retry_delay=1))
        assert "ACCEPT_NEW" in str(caught.value)
    assert server.connections == 2  # one per call: never retried
    assert not (tmp_path / "missing_known_hosts").exists()


async def test_accept_new_records_the_key_then_it_is_known(
    server: SSHTestServer, tmp_path: Path, key_file: Path
) -> None:
    known = tmp_path / "fleet" / "known_hosts"  # neither the file nor its directory exist yet
    assert await _hello(ssh_options(server, key_file, known, host_key_policy="accept-new")) == "hello\n"
    assert known.read_text() == server.known_hosts_line()

    # Now strict checking passes with the recorded file, and accept-new does not record twice.
    assert await _hello(ssh_options(server, key_file, known)) == "hello\n"
    assert await _hello(ssh_options(server, key_file, known, host_key_policy=HostKeyPolicy.ACCEPT_NEW))
    assert known.read_text() == server.known_hosts_line()


async def test_accept_new_keeps_other_entries(
    server: SSHTestServer, tmp_path: Path, key_file: Path, keys: Keys
) -> None:
    known = tmp_path / "known_hosts"
    other = keys.other_host.export_public_key().decode().strip()
    known.write_text(f"[10.1.2.3]:22 {other}")  # another host, no trailing newline
    await _hello(ssh_options(server, key_file, known, host_key_policy=HostKeyPolicy.ACCEPT_NEW))
    assert known.read_text() == f"[10.1.2.3]:22 {other}\n{server.known_hosts_line()}"


@pytest.mark.parametrize("policy", list(HostKeyPolicy))
async def test_changed_host_key_is_refused_under_every_policy(
    server: SSHTestServer, tmp_path: Path, key_file: Path, keys: Keys, policy: HostKeyPolicy
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line(keys.other_host))
    node = local_node()
    with pytest.raises(DeploymentError, match="does not match the one recorded") as caught:
        await run_deployment(
            node, ScriptDeployment(HELLO), ssh_options(server, key_file, known, host_key_policy=policy)
        )
    assert caught.value.node is node
    assert known.read_text() == server.known_hosts_line(keys.other_host)  # untouched
    assert server.connections == 1


async def test_unreadable_known_hosts_is_a_configuration_error(
    server: SSHTestServer, tmp_path: Path, key_file: Path
) -> None:
    with pytest.raises(ConfigurationError, match="cannot read known_hosts file"):
        await _hello(ssh_options(server, key_file, tmp_path))  # a directory


def test_host_key_policy_values() -> None:
    assert [p.value for p in HostKeyPolicy] == ["known_hosts", "accept-new"]
    with pytest.raises(ConfigurationError, match="host_key_policy"):
        SSHOptions(host_key_policy="ignore")  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------- secrets


def test_options_hide_secrets_and_refuse_pickling(keys: Keys) -> None:
    material = keys.ed25519.export_private_key("openssh", "pw-s3cret", rounds=16).decode()
    opts = SSHOptions(key=["~/.ssh/id_rsa", material], passphrase="pw-s3cret")
    text = repr(opts)
    assert "pw-s3cret" not in text
    assert "PRIVATE KEY" not in text
    assert "'~/.ssh/id_rsa', <private key>" in text
    assert "passphrase=***" in text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(opts)


def test_options_validation() -> None:
    for bad in ({"port": 0}, {"max_tries": 0}, {"retry_delay": -1}, {"interface": "eth0"}, {"username": ""}):
        with pytest.raises(ConfigurationError):
            SSHOptions(**bad)


async def test_no_secret_reaches_logs_or_errors(
    server: SSHTestServer, tmp_path: Path, keys: Keys, known_hosts: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = write_key(tmp_path / "enc", keys.stranger, passphrase=PASSPHRASE)
    with pytest.raises(DeploymentError) as caught:
        await _hello(ssh_options(server, path, known_hosts, passphrase=PASSPHRASE))
    material = keys.stranger.export_private_key("openssh").decode()
    with pytest.raises(DeploymentError) as caught_inline:
        await _hello(ssh_options(server, material, known_hosts))
    for text in (str(caught.value), str(caught_inline.value), caplog.text):
        assert PASSPHRASE not in text
        assert "PRIVATE KEY" not in text
    assert "<private key>" in str(caught_inline.value)


async def test_asyncssh_is_imported_only_when_deploying() -> None:
    code = (
        "import sys, asynccloud, asynccloud.deployment\n"
        "from asynccloud.deployment import ScriptDeployment, SSHOptions\n"
        "ScriptDeployment('x'); SSHOptions()\n"
        "from asynccloud.drivers.memory import MemoryComputeDriver\n"
        "print(sorted(m for m in sys.modules if m.startswith('asyncssh')))\n"
    )
    result = await anyio.run_process([sys.executable, "-c", code])
    assert result.stdout.decode().strip() == "[]"


@pytest.fixture
async def unused_server(remote: Path, keys: Keys) -> AsyncIterator[SSHTestServer]:
    """A server that is never connected to (closes cleanly with no connections)."""
    async with SSHTestServer(remote, [keys.ed25519]) as srv:
        yield srv


async def test_server_without_connections_closes(unused_server: SSHTestServer) -> None:
    assert unused_server.port > 0
