"""Provision many nodes concurrently, optionally deploy a script to each, and print progress and a summary.

Runs as is against the in-memory compute driver, which behaves like a remote provider (every call takes
``--latency`` seconds, nodes boot for ``--boot-time`` seconds, ``--fail NAME`` makes a create fail)::

    python examples/bulk_provision.py --nodes 200 --concurrency 50
    python examples/bulk_provision.py --nodes 20 --fail web7 --rollback

With ``--ssh-port`` every node gets the address 127.0.0.1 and a script is deployed to it over SSH (the
server at that port plays every node; the test suite runs this with its in-process asyncssh server)::

    python examples/bulk_provision.py --nodes 5 --ssh-port 2222 --ssh-user me --ssh-key ~/.ssh/id_ed25519

Only :func:`make_driver` knows which cloud this is; everything else works with any compute driver.
For EC2 (against moto or AWS), replace it with ``get_driver(DriverType.COMPUTE, Provider.AWS)(key, secret,
region=..., endpoint=...)`` once the EC2 driver lands (a follow-up: issue 4).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from asynccloud import DriverType, NodeSpec, Provider, ProvisionEvent, get_driver, provision
from asynccloud.deployment import HostKeyPolicy, ScriptDeployment, SSHOptions

if TYPE_CHECKING:
    from asynccloud.drivers.base import ComputeDriver

SCRIPT = """#!/bin/sh
echo "hello from $(hostname) as $(id -un)"
"""


def make_driver(args: argparse.Namespace) -> ComputeDriver:
    """The one cloud-specific line."""
    Compute = get_driver(DriverType.COMPUTE, Provider.MEMORY)
    fails = set(args.fail)

    def fault(operation: str, name: str) -> None:
        if operation == "create_node" and name in fails:
            raise RuntimeError(f"injected failure creating {name}")

    return Compute(
        "demo",
        latency=args.latency,
        boot_time=args.boot_time,
        address="127.0.0.1" if args.ssh_port else None,
        fault=fault,
    )


def show(event: ProvisionEvent) -> None:
    """The progress callback: one line per stage (a plain function; coroutine functions work too)."""
    node = f" {event.node.id} {event.node.public_ips[0]}" if event.node and event.node.public_ips else ""
    error = f": {type(event.error).__name__}: {str(event.error).splitlines()[0]}" if event.error else ""
    print(f"[{event.done:>4}/{event.total}] {event.spec.name:<8} {event.stage.value}{node}{error}")


async def main(args: argparse.Namespace) -> int:
    async with make_driver(args) as driver:
        size = next(s for s in await driver.list_sizes() if s.ram >= 1024)
        image = (await driver.list_images())[0]
        specs = [NodeSpec(f"web{i}", size, image) for i in range(args.nodes)]

        deploy: ScriptDeployment | None = None
        ssh: SSHOptions | None = None
        if args.ssh_port:
            deploy = ScriptDeployment(SCRIPT, delete=True, timeout=60)
            ssh = SSHOptions(
                username=args.ssh_user,
                key=args.ssh_key,
                port=args.ssh_port,
                # Fresh nodes are unknown hosts: trust each on first use, in a file of their own.
                known_hosts=args.known_hosts,
                host_key_policy=HostKeyPolicy.ACCEPT_NEW,
                retry_delay=0.2,
            )

        started = anyio.current_time()
        result = await provision(
            driver,
            specs,
            concurrency=args.concurrency,
            wait_until_running=args.wait,
            deploy=deploy,
            ssh=ssh,
            rollback_on_error=args.rollback,
            on_progress=show,
            wait_period=0.05,
        )
        elapsed = anyio.current_time() - started

        for outcome in result.outcomes:
            if outcome.deployment is not None and isinstance(outcome.deployment, ScriptDeployment):
                print(f"  {outcome.spec.name}: {(outcome.deployment.stdout or '').strip()}")
        ideal = math.ceil(args.nodes / args.concurrency) * args.latency
        print(
            f"summary: {len(result.succeeded)} succeeded, {len(result.failed)} failed, "
            f"{sum(o.rolled_back for o in result.outcomes)} rolled back; "
            f"{elapsed:.2f} s (ceil(N/concurrency) x latency = {ideal:.2f} s)"
        )
        for spec, error in result.failed:
            print(f"  failed {spec.name}: {type(error).__name__}: {str(error).splitlines()[0]}")
        print(f"nodes left at the provider: {len(await driver.list_nodes())}")
        return 0 if result.ok else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per provider call")
    parser.add_argument("--boot-time", type=float, default=0.0, help="seconds a node stays pending")
    parser.add_argument("--wait", action="store_true", help="wait until every node is running")
    parser.add_argument("--fail", action="append", default=[], metavar="NAME", help="fail creating this node")
    parser.add_argument("--rollback", action="store_true", help="destroy everything if anything fails")
    parser.add_argument("--ssh-port", type=int, default=0, help="deploy over SSH to 127.0.0.1:PORT")
    parser.add_argument("--ssh-user", default="root")
    parser.add_argument("--ssh-key", default=None, help="private key file (default: agent, ~/.ssh/id_*)")
    parser.add_argument("--known-hosts", default=None, help="known_hosts file (default: a temporary one)")
    return parser.parse_args(argv)


def run(argv: list[str]) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.ssh_port and args.known_hosts is None:
            args.known_hosts = str(Path(tmp) / "known_hosts")
        # Deployment (asyncssh) needs asyncio; provisioning alone runs on trio as well.
        code: Any = anyio.run(partial(main, args), backend="asyncio")
    return int(code)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
