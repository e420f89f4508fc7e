"""Rackspace Cloud Servers (Nova on ``cloudServersOpenStack``) against Rackspace-shaped fixtures."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import respx

from asynccloud import Capability, ConfigurationError, DriverType, NotSupportedError, Provider, get_driver
from asynccloud.drivers.base import ComputeDriver
from asynccloud.drivers.rackspace import REGIONS, RackspaceNodeDriver, rackspace_auth
from asynccloud.models import Node, NodeState
from tests.drivers.openstack._support import load_rackspace

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

pytestmark = pytest.mark.anyio

TOKENS = "https://identity.api.rackspacecloud.com/v2.0/tokens"
ORD = "https://ord.servers.api.rackspacecloud.com/v2/1100111"
DFW = "https://dfw.servers.api.rackspacecloud.com/v2/1100111"
API_KEY = "0123456789abcdef0123456789abcdef"
SERVER = "ef08aa7a-b5e4-4bb8-86df-5ac56230f841"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl demo@example"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def identity(mock: respx.MockRouter) -> respx.Route:
    return mock.post(TOKENS).respond(200, json=load_rackspace("identity_v2_access.json"))


@pytest.fixture
async def servers(identity: respx.Route) -> AsyncIterator[RackspaceNodeDriver]:
    async with RackspaceNodeDriver("demoauthor", API_KEY, region="ord") as driver:
        yield driver


def mock_images(mock: respx.MockRouter, base: str = ORD) -> respx.Route:
    mock.get(f"{base}/images/detail", params={"marker": "5ed162cc-b4eb-4371-b24a-a0ae73376c73"}).respond(
        200, json=load_rackspace("servers_images_page2.json")
    )
    return mock.get(f"{base}/images/detail").respond(200, json=load_rackspace("servers_images_page1.json"))


async def test_registered_with_rackspace_capabilities(identity: respx.Route) -> None:
    cls = get_driver(DriverType.COMPUTE, Provider.RACKSPACE)
    assert cls is RackspaceNodeDriver
    async with cls("demoauthor", API_KEY, region="DFW") as driver:
        assert isinstance(driver, ComputeDriver)
        assert driver.region == "DFW"
        assert driver.supports(Capability.KEY_PAIRS)
        assert driver.supports(Capability.KEY_PAIR_CREATE)
        assert not driver.supports(Capability.NODE_START_STOP)
        assert not driver.supports(Capability.VOLUMES)
        with pytest.raises(NotSupportedError):
            await driver.stop_node(Node(id=SERVER, name="web1"))
        with pytest.raises(NotSupportedError):
            await driver.list_volumes()
        assert API_KEY not in repr(driver)


def test_unknown_region_and_option() -> None:
    with pytest.raises(ConfigurationError, match="valid regions: dfw, ord, iad, lon, syd, hkg"):
        RackspaceNodeDriver("u", "k", region="mars")
    with pytest.raises(ConfigurationError, match="unknown Rackspace option"):
        RackspaceNodeDriver("u", "k", project_name="x")  # type: ignore[call-arg]


async def test_catalog_entry_per_region(mock: respx.MockRouter, identity: respx.Route) -> None:
    route = mock.get(f"{DFW}/flavors/detail").respond(200, json=load_rackspace("servers_flavors.json"))
    async with RackspaceNodeDriver("demoauthor", API_KEY, region="dfw") as driver:
        sizes = await driver.list_sizes()
    assert [s.ram for s in sizes] == [1024, 2048, 4096]
    assert sizes[1].extra["extra_specs"]["class"] == "general1"
    assert route.calls.last.request.headers["x-auth-token"] == "ab48a9efdfedb23ty3494"
    assert json.loads(identity.calls.last.request.content) == {
        "auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demoauthor", "apiKey": API_KEY}}
    }


#: Endpoints of the regions the identity fixture leaves out (hosts as Rackspace publishes them).
FILES_ACCOUNT = "MossoCloudFS_530f8649-324c-499c-a075-2195854d52a7"
MORE_ENDPOINTS = {
    "cloudServersOpenStack": {
        r: {
            "tenantId": "1100111",
            "publicURL": f"https://{r.lower()}.servers.api.rackspacecloud.com/v2/1100111",
        }
        for r in ("LON", "SYD", "HKG")
    },
    "cloudFiles": {
        r: {
            "tenantId": FILES_ACCOUNT,
            "publicURL": f"https://storage101.{host}.clouddrive.com/v1/{FILES_ACCOUNT}",
        }
        for r, host in (("SYD", "syd2"), ("HKG", "hkg1"))
    },
    "cloudFilesCDN": {
        r: {"tenantId": FILES_ACCOUNT, "publicURL": f"https://{host}.clouddrive.com/v1/{FILES_ACCOUNT}"}
        for r, host in (("SYD", "cdn4"), ("HKG", "cdn6"))
    },
}


def six_region_catalog() -> tuple[dict[str, object], dict[tuple[str, str], str]]:
    """The identity fixture with compute, Files and CDN in all six regions, and each (service, region) URL."""
    access = load_rackspace("identity_v2_access.json")
    urls: dict[tuple[str, str], str] = {}
    for service in access["access"]["serviceCatalog"]:
        for region, endpoint in MORE_ENDPOINTS.get(service["name"], {}).items():
            service["endpoints"].append({"region": region, **endpoint})
        for endpoint in service["endpoints"]:
            urls[service["name"], str(endpoint.get("region"))] = endpoint["publicURL"]
    return access, urls


@pytest.mark.parametrize("region", REGIONS)
async def test_every_region_reaches_its_own_endpoints(mock: respx.MockRouter, region: str) -> None:
    access, urls = six_region_catalog()
    identity = mock.post(TOKENS).respond(200, json=access)
    compute = urls["cloudServersOpenStack", region.upper()]
    files = urls["cloudFiles", region.upper()]
    cdn = urls["cloudFilesCDN", region.upper()]
    flavors = mock.get(f"{compute}/flavors/detail").respond(200, json=load_rackspace("servers_flavors.json"))
    head = mock.head(f"{files}/photos").respond(204, headers={"X-Container-Object-Count": "1"})
    cdn_fixture = load_rackspace("cdn_container_head.json")
    cdn_head = mock.head(f"{cdn}/photos").respond(cdn_fixture["status"], headers=cdn_fixture["headers"])
    Compute = get_driver(DriverType.COMPUTE, Provider.RACKSPACE)
    Storage = get_driver(DriverType.STORAGE, Provider.CLOUDFILES)
    async with (
        rackspace_auth("demoauthor", API_KEY) as auth,
        Compute(None, auth=auth, region=region) as rs,
        Storage(None, auth=auth, region=region.upper()) as cloudfiles,
    ):
        assert len(await rs.list_sizes()) == 3
        [location] = await rs.list_locations()
        photos = await cloudfiles.get_container("photos")
        assert (await photos.get_cdn_url()).endswith(".ssl.cf0.rackcdn.com")
    assert location.id == region
    assert identity.call_count == 1
    assert flavors.call_count == head.call_count == cdn_head.call_count == 1


async def test_images_come_from_the_compute_endpoint(
    mock: respx.MockRouter, servers: RackspaceNodeDriver
) -> None:
    route = mock_images(mock)
    images = await servers.list_images()
    assert [i.name for i in images] == [
        "CentOS Stream 9 (PVHVM)",
        "Ubuntu 24.04 LTS (Noble Numbat) (PVHVM)",
        "Debian 12 (Bookworm) (PVHVM)",
    ]
    assert route.call_count == 1
    assert images[1].extra["min_ram"] == 512
    assert images[1].extra["metadata"]["os_distro"] == "ubuntu"


async def test_location_is_the_region(servers: RackspaceNodeDriver) -> None:
    [location] = await servers.list_locations()
    assert (location.id, location.name, location.country) == ("ord", "Chicago", "US")


async def test_public_and_private_ips(mock: respx.MockRouter, servers: RackspaceNodeDriver) -> None:
    mock.get(f"{ORD}/servers/detail").respond(200, json=load_rackspace("servers_detail_active.json"))
    [node] = await servers.list_nodes()
    assert node.state is NodeState.RUNNING
    assert node.public_ips == ["2001:4801:7825:103:be76:4eff:fe10:1e4d", "166.78.10.91"]
    assert node.private_ips == ["10.180.16.30"]
    assert (node.size_id, node.image_id) == ("general1-2", "5ed162cc-b4eb-4371-b24a-a0ae73376c73")


# ------------------------------------------------------------------------ the founding document, compute


async def test_founding_document_compute_snippet(
    mock: respx.MockRouter, identity: respx.Route, tmp_path: Path
) -> None:
    key_file = tmp_path / "id_ed25519.pub"
    key_file.write_text(PUBLIC_KEY + "\n")
    import_key = mock.post(f"{ORD}/os-keypairs").respond(
        200, json=load_rackspace("servers_keypair_import.json")
    )
    mock.get(f"{ORD}/flavors/detail").respond(200, json=load_rackspace("servers_flavors.json"))
    mock_images(mock)
    create = mock.post(f"{ORD}/servers").respond(202, json=load_rackspace("servers_create.json"))
    build = load_rackspace("servers_detail_build.json")
    active = load_rackspace("servers_detail_active.json")
    listing = mock.get(f"{ORD}/servers/detail").mock(
        side_effect=[respx.MockResponse(200, json=build), *[respx.MockResponse(200, json=active)] * 2]
    )

    Compute = get_driver(DriverType.COMPUTE, Provider.RACKSPACE)
    async with Compute("user", "api-key", region="ord") as rs:
        key = await rs.import_key_pair_from_file(name="my_key", key_file_path=key_file)
        size = next(s for s in await rs.list_sizes() if s.ram >= 2048)
        image = next(i for i in await rs.list_images() if i.name and i.name.startswith("Ubuntu 24.04"))
        node = await rs.create_node("web1", size, image, key_pair=key)
        [(running, ips)] = await rs.wait_until_running([node], wait_period=0.001, timeout=5)
        nodes = await rs.list_nodes()

    assert json.loads(import_key.calls.last.request.content) == {
        "keypair": {"name": "my_key", "public_key": PUBLIC_KEY}
    }
    assert json.loads(create.calls.last.request.content) == {
        "server": {
            "name": "web1",
            "flavorRef": "general1-2",
            "imageRef": "5ed162cc-b4eb-4371-b24a-a0ae73376c73",
            "key_name": "my_key",
        }
    }
    assert node.id == SERVER
    assert node.state is NodeState.PENDING
    assert running.state is NodeState.RUNNING
    assert ips == ["166.78.10.91"]  # IPv4 only by default
    assert [n.id for n in nodes] == [SERVER]
    assert listing.call_count == 3
