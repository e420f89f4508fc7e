"""Deploying to nodes over SSH: steps, how to connect, and ``deploy_node``.

**asyncio only.** Deployment uses asyncssh, which runs on asyncio; on trio every entry point raises
:class:`~asynccloud.errors.NotSupportedError` before creating or connecting to anything. asyncssh is
imported only here, and only when a deployment actually runs: importing this package (to build steps or
options) does not import it, and neither does ``import asynccloud``.

Typical use (``driver.deploy_node`` is the same call as a method of every built-in compute driver)::

    from asynccloud.deployment import HostKeyPolicy, MultiStepDeployment, ScriptDeployment, SSHKeyDeployment

    steps = MultiStepDeployment([
        SSHKeyDeployment(open("id_ed25519.pub").read()),
        ScriptDeployment("#!/bin/sh\\napt-get install -y nginx\\n", timeout=300),
    ])
    node = await driver.deploy_node(
        name="web1", size=size, image=image, deploy=steps,
        ssh_username="ubuntu", ssh_key="~/.ssh/id_ed25519",
        known_hosts="./fleet_known_hosts", host_key_policy=HostKeyPolicy.ACCEPT_NEW,
    )

See ``docs/deployment.md`` for keys, host-key policy and failure semantics.
"""

from asynccloud.deployment._client import CommandResult, SSHClient
from asynccloud.deployment._deploy import deploy_node, run_deployment
from asynccloud.deployment._options import HostKeyPolicy, KeySource, SSHOptions
from asynccloud.deployment.steps import (
    Deployment,
    FileDeployment,
    MultiStepDeployment,
    ScriptDeployment,
    ScriptFileDeployment,
    SSHKeyDeployment,
)

__all__ = [
    "CommandResult",
    "Deployment",
    "FileDeployment",
    "HostKeyPolicy",
    "KeySource",
    "MultiStepDeployment",
    "SSHClient",
    "SSHKeyDeployment",
    "SSHOptions",
    "ScriptDeployment",
    "ScriptFileDeployment",
    "deploy_node",
    "run_deployment",
]
