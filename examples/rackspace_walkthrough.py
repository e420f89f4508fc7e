"""The founding document's Rackspace walkthrough, one step after the other, in async form.

A key pair imported from a file, a size (>= 2 GiB of RAM) and an image picked by name, a server waited
for until it runs, a load balancer in front of it, a DNS zone with an A record pointing at the balancer,
then a Cloud Files container: a streamed upload from an async generator, the CDN switched on and the
object's CDN URL, a listing, and a streamed download checked against the upload's MD5.

One :func:`~asynccloud.drivers.rackspace.rackspace_auth` object serves all four drivers, so the whole
walkthrough costs one token request::

    export RACKSPACE_USERNAME=... RACKSPACE_API_KEY=...
    python examples/rackspace_walkthrough.py --region ord --domain example.org \
        --key-file ~/.ssh/id_ed25519.pub

This creates billable resources (a server, a load balancer, a zone, a container); ``--cleanup`` deletes
them again at the end (and when a step fails). The test suite runs :func:`walkthrough` against Rackspace
fixtures with no network (``tests/test_rackspace_walkthrough.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from asynccloud import DriverType, Provider, get_driver
from asynccloud.drivers.rackspace import REGIONS, rackspace_auth
from asynccloud.models import Algorithm, Member, RecordType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
    from pathlib import Path

    import httpx

#: What :func:`generate` uploads: ``LINES`` numbered lines.
LINES = 20_000


async def generate(lines: int = LINES) -> AsyncIterator[bytes]:
    """An async source of bytes, as a web handler or a pipeline would produce them (~0.7 MB)."""
    for start in range(0, lines, 1000):
        numbers = range(start, min(start + 1000, lines))
        yield "".join(f"line {i:05d}: hello from asynccloud\n" for i in numbers).encode()
        await anyio.lowlevel.checkpoint()


@dataclass
class Outcome:
    """What the walkthrough made, for the caller (and the tests) to check."""

    node_id: str
    node_ips: list[str]
    balancer_id: str
    balancer_ip: str
    zone_id: str
    record_id: str
    cdn_url: str
    uploaded_md5: str
    downloaded_bytes: int
    downloaded_md5: str
    chunks: int


async def walkthrough(
    username: str,
    api_key: str,
    region: str = "ord",
    *,
    key_file: str | Path = "~/.ssh/id_ed25519.pub",
    domain: str = "example.com",
    email: str | None = None,
    image_name: str = "Ubuntu 24.04",
    container_name: str = "asynccloud-walkthrough",
    poll_interval: float = 5.0,
    cleanup: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    out: Callable[[str], object] = print,
) -> Outcome:
    """Run the walkthrough; every request goes through ``transport`` when given (the tests' fake cloud).

    Args:
        username: The Rackspace user name.
        api_key: The account's API key.
        region: ``dfw``, ``ord``, ``iad``, ``lon``, ``syd`` or ``hkg``.
        key_file: The public key to import as ``my_key``.
        domain: The DNS zone to create (a domain you own).
        email: The zone's contact address (default ``hostmaster@<domain>``).
        image_name: The start of the image's name.
        container_name: The Cloud Files container to create.
        poll_interval: Seconds between status polls (server, balancer, DNS jobs).
        cleanup: Delete everything created, at the end or when a step fails.
        transport: An httpx transport for every client (the token, the four APIs).
        out: Where the progress lines go.
    """
    Compute = get_driver(DriverType.COMPUTE, Provider.RACKSPACE)
    Balancers = get_driver(DriverType.LOADBALANCER, Provider.RACKSPACE)
    DNS = get_driver(DriverType.DNS, Provider.RACKSPACE)
    Storage = get_driver(DriverType.STORAGE, Provider.CLOUDFILES)

    async with rackspace_auth(username, api_key, transport=transport) as auth, AsyncExitStack() as undo:
        # One token for all four drivers: the drivers take no key of their own (None), only `auth`.
        rs = await undo.enter_async_context(Compute(None, auth=auth, region=region, transport=transport))
        lb = await undo.enter_async_context(
            Balancers(None, auth=auth, region=region, wait_interval=poll_interval, transport=transport)
        )
        dns = await undo.enter_async_context(
            DNS(None, auth=auth, region=region, job_interval=poll_interval, transport=transport)
        )
        files = await undo.enter_async_context(Storage(None, auth=auth, region=region, transport=transport))

        def later(what: str, step: Callable[[], Awaitable[object]]) -> None:
            """With ``cleanup``, undo a step when the walkthrough ends (in reverse order)."""

            async def run() -> None:
                await step()
                out(f"cleanup: deleted {what}")

            if cleanup:
                undo.push_async_callback(run)

        # --- compute: key pair, size, image, server
        key = await rs.import_key_pair_from_file(name="my_key", key_file_path=key_file)
        later(f"key pair {key.name}", lambda: rs.delete_key_pair(key))
        out(f"key pair: {key.name} ({key.fingerprint})")
        size = next((s for s in await rs.list_sizes() if s.ram >= 2048), None)
        if size is None:
            raise LookupError(f"no size with at least 2048 MiB of RAM in {region}")
        images = await rs.list_images()
        image = next((i for i in images if i.name and i.name.startswith(image_name)), None)
        if image is None:
            names = sorted(str(i.name) for i in images)
            raise LookupError(f"no image whose name starts with {image_name!r}; there are: {names}")
        out(f"size: {size.id} ({size.ram} MiB); image: {image.name}")
        node = await rs.create_node("web1", size, image, key_pair=key)
        later(f"server {node.name}", lambda: rs.destroy_node(node))
        out(f"server: {node.name} {node.id} is {node.state.value}")
        [(node, ips)] = await rs.wait_until_running([node], wait_period=poll_interval)
        out(f"server running at {', '.join(ips)} (private {', '.join(node.private_ips)})")

        # --- load balancer with the server as its member (over ServiceNet when it has a private address)
        member = Member(ip=(node.private_ips or node.public_ips)[0], port=80)
        balancer = await lb.create_balancer("web", 80, "http", Algorithm.ROUND_ROBIN, [member])
        later(f"balancer {balancer.name}", lambda: lb.destroy_balancer(balancer))
        if balancer.ip is None:
            raise LookupError(f"balancer {balancer.id} has no virtual IP")
        out(f"balancer: {balancer.name} {balancer.id} at {balancer.ip}:{balancer.port} ({balancer.state})")
        members = await balancer.list_members()
        out("members: " + ", ".join(f"{m.ip}:{m.port}" for m in members))

        # --- DNS: a zone, and an A record pointing at the balancer
        zone = await dns.create_zone(domain, extra={"email": email or f"hostmaster@{domain}"})
        later(f"zone {zone.domain}", zone.delete)
        out(f"zone: {zone.domain} ({zone.id})")
        record = await zone.create_record("www", RecordType.A, balancer.ip, ttl=300)
        out(f"record: {record.name}.{zone.domain} {record.type.value} {record.data}")

        # --- Cloud Files: container, streamed upload, CDN, listing, streamed download
        container = await files.create_container(container_name)
        later(f"container {container.name}", container.delete)
        obj = await container.upload_object_via_stream(generate(), "hello.txt", content_type="text/plain")
        later(f"object {obj.name}", obj.delete)
        out(f"uploaded {obj.name}: {obj.size:,} bytes, md5 {obj.hash}")
        await container.enable_cdn()
        cdn_url = await obj.get_cdn_url()
        out(f"CDN URL: {cdn_url}")
        async for listed in container.iterate_objects():
            out(f"  {listed.name:<12} {listed.size:>10,} B  {listed.content_type}")
        digest, received, chunks = hashlib.md5(usedforsecurity=False), 0, 0
        async for chunk in obj.as_stream(chunk_size=64 * 1024):
            digest.update(chunk)
            received, chunks = received + len(chunk), chunks + 1
        if digest.hexdigest() != obj.hash:
            raise RuntimeError(f"downloaded md5 {digest.hexdigest()} != uploaded md5 {obj.hash}")
        out(f"downloaded {received:,} bytes in {chunks} chunks: md5 verified")

        return Outcome(
            node_id=node.id,
            node_ips=ips,
            balancer_id=balancer.id,
            balancer_ip=balancer.ip,
            zone_id=zone.id,
            record_id=record.id,
            cdn_url=cdn_url,
            uploaded_md5=str(obj.hash),
            downloaded_bytes=received,
            downloaded_md5=digest.hexdigest(),
            chunks=chunks,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--region", default="ord", type=str.lower, choices=REGIONS)
    parser.add_argument("--key-file", default="~/.ssh/id_ed25519.pub", help="public key to import as my_key")
    parser.add_argument("--domain", default="example.com", help="DNS zone to create (one you own)")
    parser.add_argument("--image", default="Ubuntu 24.04", help="start of the image's name")
    parser.add_argument("--container", default="asynccloud-walkthrough")
    parser.add_argument("--cleanup", action="store_true", help="delete what was created at the end")
    args = parser.parse_args(argv)
    username, api_key = os.environ.get("RACKSPACE_USERNAME"), os.environ.get("RACKSPACE_API_KEY")
    if not username or not api_key:
        print(
            "rackspace_walkthrough: set RACKSPACE_USERNAME and RACKSPACE_API_KEY (your Rackspace user name "
            "and API key) to run the walkthrough against your account",
            file=sys.stderr,
        )
        return 2
    anyio.run(
        lambda: walkthrough(
            username,
            api_key,
            args.region,
            key_file=args.key_file,
            domain=args.domain,
            image_name=args.image,
            container_name=args.container,
            cleanup=args.cleanup,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
