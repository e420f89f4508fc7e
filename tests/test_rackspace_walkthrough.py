"""examples/rackspace_walkthrough.py, the whole founding-document flow, against a fake Rackspace (no network).

The fake answers from the Rackspace fixtures of ``tests/drivers/rackspace/fixtures`` and keeps just enough
state to be honest: Cloud Files stores what is uploaded and serves it back, the CDN answers with a URL only
once the container was CDN-enabled, the DNS jobs complete with what was asked for, the server builds before
it runs. Every request goes through the transport the walkthrough is given; a global respx guard with no
routes makes any request that escapes it fail.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httpx
import pytest
import respx
from examples.rackspace_walkthrough import walkthrough

from asynccloud import OperationFailedError
from tests.drivers.openstack._support import load_rackspace

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "rackspace_walkthrough.py"
TOKENS = "https://identity.api.rackspacecloud.com/v2.0/tokens"
TOKEN = "ab48a9efdfedb23ty3494"
SERVERS = "https://ord.servers.api.rackspacecloud.com/v2/1100111"
LB = "https://ord.loadbalancers.api.rackspacecloud.com/v1.0/1100111/loadbalancers"
DNS = "https://dns.api.rackspacecloud.com/v1.0/1100111"
JOB = f"{DNS}/status/852a1e4a-2e4a-4d8e-9c7e-2fb7a8d39bc1"
ACCOUNT = "MossoCloudFS_530f8649-324c-499c-a075-2195854d52a7"
FILES = f"https://storage101.ord1.clouddrive.com/v1/{ACCOUNT}"
CDN = f"https://cdn2.clouddrive.com/v1/{ACCOUNT}"
CDN_SSL_URI = "https://83c49b9a2f7ad18250b3-346eb45fd42c58ca13011d659bfc1ac1.ssl.cf0.rackcdn.com"
SERVER_ID = "ef08aa7a-b5e4-4bb8-86df-5ac56230f841"
UBUNTU = "5ed162cc-b4eb-4371-b24a-a0ae73376c73"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl demo@example"
CONTAINER = "asynccloud-walkthrough"
#: What the example's generator must produce, written out independently of it.
EXPECTED = "".join(f"line {i:05d}: hello from asynccloud\n" for i in range(20_000)).encode()


@dataclass
class FakeRackspace:
    """Routes for the four Rackspace APIs and identity, with the little state the walkthrough relies on."""

    router: respx.Router = field(default_factory=lambda: respx.Router(assert_all_mocked=True))
    log: list[httpx.Request] = field(default_factory=list)
    objects: dict[str, bytes] = field(default_factory=dict)
    containers: set[str] = field(default_factory=set)
    cdn_enabled: set[str] = field(default_factory=set)
    server_polls: int = 0
    job: dict[str, Any] | None = None
    fail_zone: bool = False

    def transport(self) -> httpx.MockTransport:
        async def handler(request: httpx.Request) -> httpx.Response:
            self.log.append(request)
            return await self.router.async_handler(request)

        return httpx.MockTransport(handler)

    def calls(self, method: str, url: str) -> list[httpx.Request]:
        """The requests made to ``method url`` (query string ignored), in order."""
        return [r for r in self.log if r.method == method and str(r.url).split("?")[0] == url]

    def index(self, method: str, url: str) -> int:
        """Where the first ``method url`` request is in the log."""
        return next(
            i for i, r in enumerate(self.log) if r.method == method and str(r.url).split("?")[0] == url
        )

    # ------------------------------------------------------------------------------------ handlers

    def server_detail(self, request: httpx.Request) -> httpx.Response:
        self.server_polls += 1
        name = "servers_detail_build.json" if self.server_polls == 1 else "servers_detail_active.json"
        return httpx.Response(200, json=load_rackspace(name))

    def balancer_nodes(self, request: httpx.Request) -> httpx.Response:
        sent = json.loads(self.calls("POST", LB)[-1].content)["loadBalancer"]["nodes"]
        nodes = [{**n, "id": 410 + i, "status": "ONLINE", "type": "PRIMARY"} for i, n in enumerate(sent)]
        return httpx.Response(200, json={"nodes": nodes})

    def dns_write(self, request: httpx.Request) -> httpx.Response:
        """A DNS write starts a job; the job's answer depends on what was asked."""
        job = load_rackspace("dns_job_running.json")
        if request.method == "DELETE":
            job.update(status="COMPLETED", verb="DELETE")
        elif request.url.path.endswith("/domains"):
            job = load_rackspace("dns_job_error.json" if self.fail_zone else "dns_job_domain_completed.json")
        else:
            job = load_rackspace("dns_job_record_completed.json")
            asked = json.loads(request.content)["records"][0]
            created = job["response"]["records"][0]
            created.update(name=asked["name"], type=asked["type"], data=asked["data"], ttl=asked["ttl"])
            created["id"] = "A-6823002"
        self.job = job
        return httpx.Response(202, json=load_rackspace("dns_job_accepted.json"))

    def dns_job(self, request: httpx.Request) -> httpx.Response:
        assert self.job is not None, "job polled before any DNS write"
        if self.job.get("status") == "RUNNING":  # not seen yet: RUNNING once, then the real answer
            return httpx.Response(200, json=load_rackspace("dns_job_running.json"))
        return httpx.Response(200, json=self.job)

    def swift(self, request: httpx.Request) -> httpx.Response:
        container, _, name = unquote(request.url.path.removeprefix(f"/v1/{ACCOUNT}/")).partition("/")
        if not name:
            if request.method == "PUT":
                created = container not in self.containers
                self.containers.add(container)
                return httpx.Response(201 if created else 202)
            if request.method == "DELETE":
                self.containers.discard(container)
                return httpx.Response(204)
            marker = request.url.params.get("marker", "")
            listing = [
                {"name": k, "bytes": len(v), "hash": hashlib.md5(v).hexdigest(), "content_type": "text/plain",
                 "last_modified": "2026-11-24T10:30:00.000000"}
                for k, v in sorted(self.objects.items()) if k > marker
            ]  # fmt: skip
            return httpx.Response(200, json=listing)
        if request.method == "PUT":
            assert container in self.containers
            data = request.content
            assert request.headers["etag"] == hashlib.md5(data).hexdigest()
            self.objects[name] = data
            return httpx.Response(201, headers={"Etag": hashlib.md5(data).hexdigest()})
        if request.method == "GET":
            data = self.objects[name]

            async def body() -> AsyncIterator[bytes]:  # as the network delivers it, in odd pieces
                for start in range(0, len(data), 10_000):
                    yield data[start : start + 10_000]

            # A streamed body (respx would pre-read a plain one, which a streaming download cannot use).
            headers = {"Content-Type": "text/plain", "Content-Length": str(len(data))}
            return httpx.Response(200, content=body(), headers=headers)
        assert request.method == "DELETE"
        del self.objects[name]
        return httpx.Response(204)

    def cdn(self, request: httpx.Request) -> httpx.Response:
        container = unquote(request.url.path.rsplit("/", 1)[1])
        if request.method == "PUT":
            assert request.headers["x-cdn-enabled"] == "True"
            self.cdn_enabled.add(container)
            return httpx.Response(201)
        if container not in self.cdn_enabled:
            return httpx.Response(404)
        head = load_rackspace("cdn_container_head.json")
        return httpx.Response(head["status"], headers=head["headers"])

    def install(self) -> None:
        r = self.router
        r.post(TOKENS).respond(200, json=load_rackspace("identity_v2_access.json"))
        # Cloud Servers
        r.post(f"{SERVERS}/os-keypairs").respond(200, json=load_rackspace("servers_keypair_import.json"))
        r.delete(f"{SERVERS}/os-keypairs/my_key").respond(202)
        r.get(f"{SERVERS}/flavors/detail").respond(200, json=load_rackspace("servers_flavors.json"))
        r.get(f"{SERVERS}/images/detail", params={"marker": UBUNTU}).respond(
            200, json=load_rackspace("servers_images_page2.json")
        )
        r.get(f"{SERVERS}/images/detail").respond(200, json=load_rackspace("servers_images_page1.json"))
        r.post(f"{SERVERS}/servers").respond(202, json=load_rackspace("servers_create.json"))
        r.get(f"{SERVERS}/servers/detail").mock(side_effect=self.server_detail)
        r.delete(f"{SERVERS}/servers/{SERVER_ID}").respond(204)
        # Cloud Load Balancers
        r.post(LB).respond(202, json=load_rackspace("lb_create.json"))
        r.get(f"{LB}/2200/nodes").mock(side_effect=self.balancer_nodes)
        r.get(f"{LB}/2200").respond(200, json=load_rackspace("lb_get_active.json"))
        r.delete(f"{LB}/2200").respond(202)
        # Cloud DNS
        r.post(f"{DNS}/domains").mock(side_effect=self.dns_write)
        r.post(f"{DNS}/domains/2725233/records").mock(side_effect=self.dns_write)
        r.delete(f"{DNS}/domains/2725233").mock(side_effect=self.dns_write)
        r.get(JOB).mock(side_effect=self.dns_job)
        # Cloud Files and its CDN
        r.route(url__startswith=f"{FILES}/").mock(side_effect=self.swift)
        r.route(url__startswith=f"{CDN}/").mock(side_effect=self.cdn)


@pytest.fixture
def no_network() -> Iterator[respx.MockRouter]:
    """Any request that does not go through the walkthrough's transport fails (no route matches)."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as guard:
        yield guard


@pytest.fixture
def cloud(no_network: respx.MockRouter) -> FakeRackspace:
    fake = FakeRackspace()
    fake.install()
    return fake


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "id_ed25519.pub"
    path.write_text(PUBLIC_KEY + "\n")
    return path


@pytest.mark.parametrize("cleanup", [False, True], ids=["keep", "cleanup"])
async def test_the_whole_walkthrough(
    cloud: FakeRackspace, key_file: Path, cleanup: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = await walkthrough(
        "demoauthor",
        "0123456789abcdef0123456789abcdef",
        "ord",
        key_file=key_file,
        poll_interval=0.001,
        cleanup=cleanup,
        transport=cloud.transport(),
    )
    stdout = capsys.readouterr().out

    # One token for the four drivers, and every API request carried it.
    assert len(cloud.calls("POST", TOKENS)) == 1
    assert all(r.headers.get("x-auth-token") == TOKEN for r in cloud.log if str(r.url) != TOKENS)

    # The key pair, from the file; the size with >= 2 GiB; the Ubuntu image from the second page.
    [imported] = cloud.calls("POST", f"{SERVERS}/os-keypairs")
    assert json.loads(imported.content) == {"keypair": {"name": "my_key", "public_key": PUBLIC_KEY}}
    [created] = cloud.calls("POST", f"{SERVERS}/servers")
    assert json.loads(created.content) == {
        "server": {"name": "web1", "flavorRef": "general1-2", "imageRef": UBUNTU, "key_name": "my_key"}
    }
    assert cloud.server_polls == 2  # BUILD, then ACTIVE
    assert (outcome.node_id, outcome.node_ips) == (SERVER_ID, ["166.78.10.91"])

    # The balancer has the server (its private address) as member.
    [balancer] = cloud.calls("POST", LB)
    assert json.loads(balancer.content) == {
        "loadBalancer": {
            "name": "web",
            "port": 80,
            "protocol": "HTTP",
            "algorithm": "ROUND_ROBIN",
            "virtualIps": [{"type": "PUBLIC"}],
            "nodes": [{"address": "10.180.16.30", "port": 80, "condition": "ENABLED"}],
        }
    }
    assert (outcome.balancer_id, outcome.balancer_ip) == ("2200", "206.10.10.210")
    assert "members: 10.180.16.30:80" in stdout

    # The zone, and an A record pointing at the balancer's public IPv4 address.
    [zone] = cloud.calls("POST", f"{DNS}/domains")
    assert json.loads(zone.content) == {
        "domains": [{"name": "example.com", "emailAddress": "hostmaster@example.com"}]
    }
    [record] = cloud.calls("POST", f"{DNS}/domains/2725233/records")
    assert json.loads(record.content) == {
        "records": [{"name": "www.example.com", "type": "A", "data": "206.10.10.210", "ttl": 300}]
    }
    assert (outcome.zone_id, outcome.record_id) == ("2725233", "A-6823002")
    assert "record: www.example.com A 206.10.10.210" in stdout

    # Cloud Files: the generator's bytes went up in one PUT, came back down in 64 KiB chunks, unchanged.
    [upload] = cloud.calls("PUT", f"{FILES}/{CONTAINER}/hello.txt")
    assert upload.content == EXPECTED
    assert upload.headers["content-type"] == "text/plain"
    assert len(cloud.calls("GET", f"{FILES}/{CONTAINER}/hello.txt")) == 1
    expected_md5 = hashlib.md5(EXPECTED).hexdigest()
    assert (outcome.uploaded_md5, outcome.downloaded_md5) == (expected_md5, expected_md5)
    assert outcome.downloaded_bytes == len(EXPECTED)
    assert outcome.chunks == math.ceil(len(EXPECTED) / (64 * 1024))
    [listed] = [line.split() for line in stdout.splitlines() if line.startswith("  hello.txt")]
    assert listed == ["hello.txt", f"{len(EXPECTED):,}", "B", "text/plain"]  # from the listing
    assert f"downloaded {len(EXPECTED):,} bytes in {outcome.chunks} chunks: md5 verified" in stdout

    # The CDN URL exists only because the container was CDN-enabled first.
    assert outcome.cdn_url == f"{CDN_SSL_URI}/hello.txt"
    assert f"CDN URL: {CDN_SSL_URI}/hello.txt" in stdout

    # The founding document's order.
    steps = [
        cloud.index("POST", f"{SERVERS}/os-keypairs"),
        cloud.index("GET", f"{SERVERS}/flavors/detail"),
        cloud.index("GET", f"{SERVERS}/images/detail"),
        cloud.index("POST", f"{SERVERS}/servers"),
        cloud.index("GET", f"{SERVERS}/servers/detail"),
        cloud.index("POST", LB),
        cloud.index("POST", f"{DNS}/domains"),
        cloud.index("POST", f"{DNS}/domains/2725233/records"),
        cloud.index("PUT", f"{FILES}/{CONTAINER}"),
        cloud.index("PUT", f"{FILES}/{CONTAINER}/hello.txt"),
        cloud.index("PUT", f"{CDN}/{CONTAINER}"),
        cloud.index("HEAD", f"{CDN}/{CONTAINER}"),
        cloud.index("GET", f"{FILES}/{CONTAINER}"),
        cloud.index("GET", f"{FILES}/{CONTAINER}/hello.txt"),
    ]
    assert steps == sorted(steps)

    deletes = [(r.method, str(r.url).split("?")[0]) for r in cloud.log if r.method == "DELETE"]
    if not cleanup:
        assert deletes == []
        assert cloud.objects == {"hello.txt": EXPECTED}
        return
    # Cleanup undoes everything, newest first.
    assert deletes == [
        ("DELETE", f"{FILES}/{CONTAINER}/hello.txt"),
        ("DELETE", f"{FILES}/{CONTAINER}"),
        ("DELETE", f"{DNS}/domains/2725233"),
        ("DELETE", f"{LB}/2200"),
        ("DELETE", f"{SERVERS}/servers/{SERVER_ID}"),
        ("DELETE", f"{SERVERS}/os-keypairs/my_key"),
    ]
    assert cloud.objects == {}
    assert cloud.containers == set()
    assert "cleanup: deleted key pair my_key" in stdout


async def test_a_failed_step_is_cleaned_up(
    cloud: FakeRackspace, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.fail_zone = True
    with pytest.raises(OperationFailedError, match="Invalid DNS name"):
        await walkthrough(
            "demoauthor",
            "0123456789abcdef0123456789abcdef",
            key_file=key_file,
            poll_interval=0.001,
            cleanup=True,
            transport=cloud.transport(),
        )
    deletes = [str(r.url) for r in cloud.log if r.method == "DELETE"]
    assert deletes == [f"{LB}/2200", f"{SERVERS}/servers/{SERVER_ID}", f"{SERVERS}/os-keypairs/my_key"]
    assert not any(str(r.url).startswith((FILES, CDN)) for r in cloud.log)  # storage never started
    assert "cleanup: deleted server web1" in capsys.readouterr().out


def test_missing_credentials_exit_2() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACKSPACE_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--region", "ord"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 2
    assert "set RACKSPACE_USERNAME and RACKSPACE_API_KEY" in result.stderr
    assert result.stdout == ""
