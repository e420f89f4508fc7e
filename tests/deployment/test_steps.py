"""Every deployment step, run over a real SSH connection to the in-process server."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import pytest

from asynccloud import ConfigurationError, DeploymentError
from asynccloud.deployment import (
    Deployment,
    FileDeployment,
    MultiStepDeployment,
    ScriptDeployment,
    ScriptFileDeployment,
    SSHClient,
    SSHKeyDeployment,
    run_deployment,
)
from tests.deployment.conftest import Keys, local_node, ssh_options

if TYPE_CHECKING:
    from pathlib import Path

    from asynccloud.models import Node
    from tests.deployment.sshserver import SSHTestServer

pytestmark = pytest.mark.anyio

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIfakefakefakefakefakefakefakefakefakefake admin@laptop"


async def test_ssh_key_deployment_appends_once_with_private_modes(
    server: SSHTestServer, remote: Path, key_file: Path, known_hosts: Path
) -> None:
    opts = ssh_options(server, key_file, known_hosts)
    (remote / ".ssh").mkdir(mode=0o755)
    (remote / ".ssh" / "authorized_keys").write_text("ssh-rsa AAAAB3existing old@host")  # no newline

    node = local_node()
    assert await run_deployment(node, SSHKeyDeployment(PUBKEY), opts) is node
    await run_deployment(node, SSHKeyDeployment(PUBKEY + "\n"), opts)  # same key again: not duplicated

    authorized = remote / ".ssh" / "authorized_keys"
    assert authorized.read_text() == f"ssh-rsa AAAAB3existing old@host\n{PUBKEY}\n"
    assert stat.S_IMODE(authorized.stat().st_mode) == 0o600


async def test_ssh_key_deployment_creates_ssh_dir(
    server: SSHTestServer, remote: Path, key_file: Path, known_hosts: Path
) -> None:
    await run_deployment(local_node(), SSHKeyDeployment(PUBKEY), ssh_options(server, key_file, known_hosts))
    assert stat.S_IMODE((remote / ".ssh").stat().st_mode) == 0o700
    assert (remote / ".ssh" / "authorized_keys").read_text() == PUBKEY + "\n"


def test_ssh_key_deployment_rejects_garbage() -> None:
    with pytest.raises(ConfigurationError):
        SSHKeyDeployment("")
    with pytest.raises(ConfigurationError):
        SSHKeyDeployment("ssh-ed25519 AAA a\nssh-rsa BBB b")


async def test_file_deployment_streams_a_file_and_keeps_its_mode(
    server: SSHTestServer, remote: Path, tmp_path: Path, key_file: Path, known_hosts: Path
) -> None:
    source = tmp_path / "payload.bin"
    data = bytes(range(256)) * 5000  # ~1.2 MiB: several chunks
    source.write_bytes(data)
    source.chmod(0o640)
    (remote / "etc").mkdir()

    await run_deployment(
        local_node(), FileDeployment(source, "etc/payload.bin"), ssh_options(server, key_file, known_hosts)
    )
    target = remote / "etc" / "payload.bin"
    assert target.read_bytes() == data
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


async def test_file_deployment_explicit_mode_and_missing_source(
    server: SSHTestServer, remote: Path, tmp_path: Path, key_file: Path, known_hosts: Path
) -> None:
    source = tmp_path / "run.sh"
    source.write_text("#!/bin/sh\n")
    opts = ssh_options(server, key_file, known_hosts)
    await run_deployment(local_node(), FileDeployment(source, "run.sh", mode=0o700), opts)
    assert stat.S_IMODE((remote / "run.sh").stat().st_mode) == 0o700

    node = local_node()
    with pytest.raises(DeploymentError, match="cannot read local file") as caught:
        await run_deployment(node, FileDeployment(tmp_path / "missing", "x"), opts)
    assert caught.value.node is node


async def test_script_deployment_keeps_output_and_runs_in_home(
    server: SSHTestServer, remote: Path, key_file: Path, known_hosts: Path
) -> None:
    script = ScriptDeployment(
        '#!/bin/sh\necho "out: $1|$2"\necho "err line" >&2\npwd\n',
        args=["two words", "$HOME;rm -rf /"],  # quoted: reach the script literally
        name="setup.sh",
    )
    await run_deployment(local_node(), script, ssh_options(server, key_file, known_hosts))

    assert script.exit_status == 0
    assert script.stdout == f"out: two words|$HOME;rm -rf /\n{remote.resolve()}\n"
    assert script.stderr == "err line\n"
    assert (remote / "setup.sh").exists()  # delete=False keeps it
    assert stat.S_IMODE((remote / "setup.sh").stat().st_mode) == 0o755


async def test_script_deployment_delete_removes_the_script(
    server: SSHTestServer, remote: Path, key_file: Path, known_hosts: Path
) -> None:
    script = ScriptDeployment("#!/bin/sh\necho hi\n", delete=True)
    assert script.name is None  # chosen afresh for every run
    await run_deployment(local_node(), script, ssh_options(server, key_file, known_hosts))
    first = script.name
    assert first is not None
    assert first.startswith("deployment_")
    assert script.stdout == "hi\n"
    assert not (remote / first).exists()
    await run_deployment(local_node(), script, ssh_options(server, key_file, known_hosts))
    assert script.name != first


async def test_nonzero_exit_raises_with_output_and_node(
    server: SSHTestServer, remote: Path, key_file: Path, known_hosts: Path
) -> None:
    script = ScriptDeployment(
        "#!/bin/sh\necho progress\necho 'disk full' >&2\nexit 3\n", name="fail.sh", delete=True
    )
    node = local_node("web7")
    with pytest.raises(DeploymentError) as caught:
        await run_deployment(node, script, ssh_options(server, key_file, known_hosts))

    err = caught.value
    assert err.node is node
    assert "'fail.sh'" in str(err)
    assert "'web7'" in str(err)
    assert "status 3" in str(err)
    assert "progress" in str(err)
    assert "disk full" in str(err)
    assert (script.exit_status, script.stdout, script.stderr) == (3, "progress\n", "disk full\n")
    assert not (remote / "fail.sh").exists()  # delete applies to failures too


async def test_check_false_keeps_status_and_goes_on(
    server: SSHTestServer, remote: Path, key_file: Path, known_hosts: Path
) -> None:
    lenient = ScriptDeployment("#!/bin/sh\necho partial\nexit 4\n", check=False)
    after = ScriptDeployment("#!/bin/sh\ntouch after.marker\n")
    await run_deployment(
        local_node(), MultiStepDeployment([lenient, after]), ssh_options(server, key_file, known_hosts)
    )

    assert (lenient.exit_status, lenient.stdout) == (4, "partial\n")
    assert (remote / "after.marker").exists()


async def test_script_timeout_stops_it_and_fails(
    server: SSHTestServer, key_file: Path, known_hosts: Path
) -> None:
    script = ScriptDeployment("#!/bin/sh\necho started\nsleep 30\n", timeout=0.5, check=False)
    with pytest.raises(DeploymentError, match=r"timed out after 0\.5 s"):
        await run_deployment(local_node(), script, ssh_options(server, key_file, known_hosts))
    assert script.exit_status == -1


async def test_script_file_deployment(
    server: SSHTestServer, remote: Path, tmp_path: Path, key_file: Path, known_hosts: Path
) -> None:
    local = tmp_path / "bootstrap.sh"
    local.write_text('#!/bin/sh\necho "bootstrapping $1" > bootstrap.log\necho done\n')
    step = ScriptFileDeployment(local, args=["web"])
    await run_deployment(local_node(), step, ssh_options(server, key_file, known_hosts))

    assert step.name == "bootstrap.sh"
    assert step.stdout == "done\n"
    assert (remote / "bootstrap.log").read_text() == "bootstrapping web\n"

    missing = ScriptFileDeployment(tmp_path / "nope.sh")
    with pytest.raises(DeploymentError, match="cannot read script file"):
        await run_deployment(local_node(), missing, ssh_options(server, key_file, known_hosts))


async def test_multi_step_runs_in_order_and_stops_at_first_failure(
    server: SSHTestServer, remote: Path, tmp_path: Path, key_file: Path, known_hosts: Path
) -> None:
    conf = tmp_path / "app.conf"
    conf.write_text("port=8080\n")
    steps = MultiStepDeployment(SSHKeyDeployment(PUBKEY))
    steps.add([FileDeployment(conf, "app.conf"), ScriptDeployment("#!/bin/sh\ncat app.conf\nexit 1\n")])
    steps.add(ScriptDeployment("#!/bin/sh\ntouch never.marker\n"))

    with pytest.raises(DeploymentError, match="port=8080"):
        await run_deployment(local_node(), steps, ssh_options(server, key_file, known_hosts))
    assert (remote / ".ssh" / "authorized_keys").exists()
    assert not (remote / "never.marker").exists()
    with pytest.raises(ConfigurationError):
        MultiStepDeployment(["not a step"])  # type: ignore[list-item]


class _Broken(Deployment):
    async def run(self, node: Node, client: SSHClient) -> Node:
        result = await client.run("echo custom")
        assert result.stdout == "custom\n"
        raise ValueError("custom step bug")


async def test_custom_step_errors_become_deployment_errors(
    server: SSHTestServer, key_file: Path, known_hosts: Path
) -> None:
    node = local_node()
    with pytest.raises(DeploymentError, match="custom step bug") as caught:
        await run_deployment(node, _Broken(), ssh_options(server, key_file, known_hosts))
    assert caught.value.node is node
    assert isinstance(caught.value.__cause__, ValueError)


def test_reprs_show_no_script_or_arguments() -> None:
    script = ScriptDeployment("#!/bin/sh\nexport TOKEN=s3cret\n", args=["--password=hunter2"], name="x.sh")
    assert "s3cret" not in repr(script)
    assert "hunter2" not in repr(script)
    assert repr(script) == "ScriptDeployment(name='x.sh')"


async def test_keys_of_every_type_log_in(
    server: SSHTestServer, remote: Path, keys: Keys, known_hosts: Path
) -> None:
    for key in (keys.ed25519, keys.rsa, keys.ecdsa):
        material = key.export_private_key("openssh").decode()
        step = ScriptDeployment("#!/bin/sh\necho ok\n")
        await run_deployment(local_node(), step, ssh_options(server, material, known_hosts))
        assert step.stdout == "ok\n", key.get_algorithm()
