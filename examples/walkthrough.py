"""The founding walkthrough on AWS: a key pair, nodes created concurrently, a balancer, DNS, storage.

Run it with ``scripts/demo.sh`` (which prepares the virtualenv), or::

    python examples/walkthrough.py                      # starts moto on 127.0.0.1, stops it at the end
    python examples/walkthrough.py --endpoint http://127.0.0.1:5000   # any AWS-compatible endpoint
    python examples/walkthrough.py --aws --region eu-west-1           # real AWS (costs money!)

Without ``--endpoint`` or ``--aws`` it never touches the network beyond 127.0.0.1: it starts moto with
``scripts/servers/start-moto.sh`` on a free port (the first run installs moto into ``.servers-venv/``, about a
minute) and stops it at the end, also on an error or Ctrl-C. Real AWS is opt-in (``--aws``) because the
walkthrough creates billable resources; credentials then come from the usual places (environment, shared
files). Everything the walkthrough creates is deleted at the end unless ``--keep`` is given.

Steps (each printed with how long it took): import a key pair; pick a size and an image (filtered queries:
the full catalogues are large); create the nodes concurrently with :func:`asynccloud.provision`; wait until
they run; put them behind an ELBv2 load balancer; create a Route 53 zone and an ``A`` record for
``www`` pointing at the balancer. An ELBv2 balancer has a DNS name, not a fixed IP, so the record is a
Route 53 **alias** A record (the AWS way to point an A record at a balancer, also valid at a zone apex);
then an S3 bucket: upload via a stream, list, download as a stream and check the bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
import anyio.lowlevel

from asynccloud import DriverType, NodeSpec, Provider, available_drivers, get_driver, provision
from asynccloud.models import Algorithm, Member, RecordType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from asynccloud.drivers.aws.ec2 import EC2NodeDriver
    from asynccloud.models import Node

ROOT = Path(__file__).resolve().parent.parent
MOTO_SCRIPT = ROOT / "scripts" / "servers" / "start-moto.sh"


# ------------------------------------------------------------------------------------------ moto server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[dict[str, str]]:
    """Start moto on 127.0.0.1 (a free port) with the project's script; always stop it."""
    port = _free_port()
    state = Path(tempfile.gettempdir()) / "asynccloud-walkthrough"
    state.mkdir(exist_ok=True)
    env = {**os.environ, "SERVERS_STATE": str(state), "PIDFILE": str(state / f"moto-{port}.pid")}
    print(f"starting moto server on 127.0.0.1:{port} (first run installs it, ~1 min) ...", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(MOTO_SCRIPT), str(port)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    try:
        if result.returncode != 0:
            raise RuntimeError(f"start-moto.sh failed:\n{result.stdout}\n{result.stderr}")
        info = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        print(f"  moto ready at {info['endpoint']} in {time.monotonic() - started:.1f} s")
        yield info
    finally:
        subprocess.run(
            ["bash", str(MOTO_SCRIPT), "stop"], env=env, capture_output=True, check=False, timeout=30
        )
        print("moto server stopped")


# --------------------------------------------------------------------------------------------- helpers


@asynccontextmanager
async def step(title: str) -> AsyncIterator[None]:
    """Print a step's title, then how long it took."""
    print(f"- {title} ...", flush=True)
    started = time.monotonic()
    yield
    print(f"  done in {(time.monotonic() - started) * 1000:.0f} ms")


async def generate(parts: int, size: int) -> AsyncIterator[bytes]:
    """An async source of bytes (what a web handler or a pipeline would produce)."""
    for i in range(parts):
        yield bytes([65 + i % 26]) * size
        await anyio.lowlevel.checkpoint()


def public_key() -> str:
    """A fresh ed25519 public key in OpenSSH format (the private half is thrown away)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " walkthrough@asynccloud"


# ----------------------------------------------------------------------------------------- the tour


async def walkthrough(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    suffix = uuid.uuid4().hex[:8]
    cleanup: list[tuple[str, Callable[[], Awaitable[object]]]] = []
    wait_period = 0.5 if args.endpoint or not args.aws else 5.0
    have = set(available_drivers())
    Compute = get_driver(DriverType.COMPUTE, Provider.AWS)
    Storage = get_driver(DriverType.STORAGE, Provider.AWS)
    # The EC2 driver's list_sizes/list_images take EC2 filters on top of the portable arguments.
    ec2 = cast("EC2NodeDriver", Compute(**settings))
    async with ec2, Storage(**settings) as s3:
        try:
            async with step("import a key pair"):
                with tempfile.TemporaryDirectory() as tmp:
                    key_file = Path(tmp) / "id_ed25519.pub"
                    key_file.write_text(public_key() + "\n")
                    pair = await ec2.import_key_pair_from_file(f"walkthrough-{suffix}", key_file)
                cleanup.append((f"key pair {pair.name}", lambda: ec2.delete_key_pair(pair)))
                print(f"  {pair.name}: fingerprint {pair.fingerprint}")

            async with step("pick a size and an image"):
                [size] = await ec2.list_sizes(instance_types=[args.size])
                images = await ec2.list_images(owner="amazon", name=args.image_name)
                image = max(images, key=lambda i: i.name or "")
                print(f"  size {size.id}: {size.vcpus:g} vCPU, {size.ram} MiB, ${size.price}/h")
                print(f"  image {image.id}: {image.name}")

            async with step(f"create {args.nodes} nodes concurrently"):
                specs = [NodeSpec(f"web-{suffix}-{i}", size, image, key_pair=pair) for i in range(args.nodes)]
                result = await provision(ec2, specs, concurrency=args.nodes)
                for node in result.created:
                    cleanup.append((f"node {node.name}", destroyer(ec2, node)))
                result.raise_for_errors()
                nodes = result.succeeded
                for node in nodes:
                    print(f"  {node.name} {node.id} {node.state.value}")

            async with step("wait until they are running"):
                running = await ec2.wait_until_running(nodes, wait_period=wait_period, timeout=600)
                for node, ips in running:
                    print(f"  {node.name} {node.state.value} at {', '.join(ips)}")

            if (DriverType.LOADBALANCER, Provider.AWS) in have:
                await balancer_and_dns(settings, suffix, nodes, cleanup)
            else:
                print("- load balancer and DNS skipped: no AWS load-balancer driver registered")

            await storage_steps(s3, suffix, cleanup)
        finally:
            if args.keep:
                print("--keep: leaving everything in place")
            else:
                await clean_up(cleanup)


def destroyer(ec2: EC2NodeDriver, node: Node) -> Callable[[], Awaitable[None]]:
    """The clean-up action for one node."""

    async def destroy() -> None:
        await ec2.destroy_node(node)

    return destroy


async def balancer_and_dns(
    settings: dict[str, Any],
    suffix: str,
    nodes: list[Any],
    cleanup: list[tuple[str, Callable[[], Awaitable[object]]]],
) -> None:
    LB = get_driver(DriverType.LOADBALANCER, Provider.AWS)
    lb = LB(**settings)
    cleanup.append(("load-balancer driver", lb.aclose))
    async with step("put them behind a load balancer"):
        members = [Member(id=node.id, port=80) for node in nodes]
        balancer = await lb.create_balancer(f"web-{suffix}", 80, "http", Algorithm.ROUND_ROBIN, members)
        cleanup.append((f"balancer {balancer.name}", lambda: lb.destroy_balancer(balancer)))
        listed = await lb.balancer_list_members(balancer)
        print(f"  {balancer.name} at {balancer.hostname}, {len(listed)} members")

    if (DriverType.DNS, Provider.AWS) not in set(available_drivers()):
        print("- DNS skipped: no AWS DNS driver registered")
        return
    DNS = get_driver(DriverType.DNS, Provider.AWS)
    dns = DNS(**settings)
    cleanup.append(("DNS driver", dns.aclose))
    async with step("create a zone and an A record (alias) for the balancer"):
        zone = await dns.create_zone(f"walkthrough-{suffix}.example.com", extra={"comment": "walkthrough"})
        cleanup.append((f"zone {zone.domain}", lambda: dns.delete_zone(zone)))
        alias = {
            "hosted_zone_id": balancer.extra.get("canonical_hosted_zone_id"),
            "dns_name": balancer.hostname,
            "evaluate_target_health": False,
        }
        record = await dns.create_record(
            "www", zone, RecordType.A, balancer.hostname or "", extra={"alias": alias}
        )
        cleanup.append((f"record {record.name}", lambda: dns.delete_record(record)))
        print(f"  www.{zone.domain} A (alias) -> {record.data}")


async def storage_steps(
    s3: Any, suffix: str, cleanup: list[tuple[str, Callable[[], Awaitable[object]]]]
) -> None:
    async with step("create a container and upload via a stream"):
        bucket = await s3.create_container(f"walkthrough-{suffix}")
        cleanup.append((f"container {bucket.name}", lambda: s3.delete_container(bucket)))
        obj = await bucket.upload_object_via_stream(generate(16, 64 * 1024), "site/index.bin")
        cleanup.append((f"object {obj.name}", lambda: s3.delete_object(obj)))
        print(f"  uploaded {obj.name}: {obj.size:,} bytes")

    async with step("iterate objects"):
        async for listed in bucket.iterate_objects():
            print(f"  {listed.name} {listed.size:,} B")

    async with step("download as a stream"):
        expected = hashlib.sha256(b"".join([c async for c in generate(16, 64 * 1024)])).hexdigest()
        digest = hashlib.sha256()
        async for chunk in obj.as_stream(chunk_size=256 * 1024):
            digest.update(chunk)
        assert digest.hexdigest() == expected, "downloaded bytes differ from the upload"
        print("  sha256 verified")


async def clean_up(cleanup: list[tuple[str, Callable[[], Awaitable[object]]]]) -> None:
    """Undo in reverse order; shielded, so Ctrl-C during the tour still cleans up."""
    with anyio.CancelScope(shield=True):
        async with step("clean up"):
            for what, undo in reversed(cleanup):
                try:
                    await undo()
                except Exception as exc:  # best effort: report and go on
                    print(f"  could not remove {what}: {type(exc).__name__}: {exc}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint", help="an AWS-compatible endpoint (e.g. a running moto server)")
    parser.add_argument("--aws", action="store_true", help="run against real AWS (billable!)")
    parser.add_argument(
        "--region", default=None, help="region (default: from the environment, else us-east-1)"
    )
    parser.add_argument("--nodes", type=int, default=3, help="how many nodes to create (default 3)")
    parser.add_argument("--size", default="t3.micro", help="instance type (default t3.micro)")
    parser.add_argument("--image-name", default="amzn2-ami-hvm-*-x86_64-gp2", help="AMI name glob (Amazon's)")
    parser.add_argument("--keep", action="store_true", help="do not delete what was created")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()

    def run(settings: dict[str, Any]) -> None:
        print(f"walkthrough against {settings.get('endpoint') or 'AWS'} on {args.backend}")
        anyio.run(walkthrough, args, settings, backend=args.backend)

    try:
        if args.endpoint or args.aws:
            settings: dict[str, Any] = {"region": args.region or os.environ.get("AWS_REGION") or "us-east-1"}
            if args.endpoint:
                settings["endpoint"] = args.endpoint
                if not os.environ.get("AWS_ACCESS_KEY_ID"):
                    settings.update(key="testing", secret="testing")  # moto and friends accept any key
            run(settings)
        else:
            with moto_server() as info:
                run(
                    {
                        "key": info["access_key_id"],
                        "secret": info["secret_access_key"],
                        "region": info["region"],
                        "endpoint": info["endpoint"],
                    }
                )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(f"walkthrough finished in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
