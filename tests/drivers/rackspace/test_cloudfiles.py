"""Rackspace Cloud Files (Swift + CDN) against fixtures shaped like the Rackspace identity and Files docs."""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
import respx

from asynccloud import (
    Capability,
    ConfigurationError,
    DriverType,
    NotFoundError,
    NotSupportedError,
    Provider,
    get_driver,
)
from asynccloud.auth.keystone import KeystoneAuth
from asynccloud.drivers.base import StorageDriver
from asynccloud.drivers.rackspace import (
    IDENTITY_URL,
    REGIONS,
    CloudFilesStorageDriver,
    openstack_options,
    rackspace_auth,
)
from asynccloud.models import Container, Object
from tests.drivers.openstack._support import load_rackspace

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

pytestmark = pytest.mark.anyio

TOKENS = "https://identity.api.rackspacecloud.com/v2.0/tokens"
ACCOUNT = "MossoCloudFS_530f8649-324c-499c-a075-2195854d52a7"
ORD = f"https://storage101.ord1.clouddrive.com/v1/{ACCOUNT}"
ORD_SNET = f"https://snet-storage101.ord1.clouddrive.com/v1/{ACCOUNT}"
DFW = f"https://storage101.dfw1.clouddrive.com/v1/{ACCOUNT}"
CDN_ORD = f"https://cdn2.clouddrive.com/v1/{ACCOUNT}"
API_KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def identity(mock: respx.MockRouter) -> respx.Route:
    return mock.post(TOKENS).respond(200, json=load_rackspace("identity_v2_access.json"))


@pytest.fixture
async def files(identity: respx.Route) -> AsyncIterator[CloudFilesStorageDriver]:
    async with CloudFilesStorageDriver("demoauthor", API_KEY, region="ord") as driver:
        yield driver


def cdn_head() -> httpx.Response:
    fixture = load_rackspace("cdn_container_head.json")
    return httpx.Response(fixture["status"], headers=fixture["headers"])


# ------------------------------------------------------------------------------------ construction


async def test_both_providers_resolve_to_cloud_files(identity: respx.Route) -> None:
    for provider in (Provider.RACKSPACE, Provider.CLOUDFILES):
        cls = get_driver(DriverType.STORAGE, provider)
        assert cls is CloudFilesStorageDriver
        async with cls("demoauthor", API_KEY, region="dfw") as driver:
            assert isinstance(driver, StorageDriver)
            assert driver.region == "DFW"
            assert driver.supports(Capability.CONTAINER_CDN)
            assert not driver.supports(Capability.OBJECT_CDN)


def test_unknown_region_lists_the_valid_ones() -> None:
    with pytest.raises(
        ConfigurationError,
        match="unknown Rackspace region 'mars'; valid regions: dfw, ord, iad, lon, syd, hkg",
    ):
        CloudFilesStorageDriver("u", "k", region="mars")
    assert REGIONS == ("dfw", "ord", "iad", "lon", "syd", "hkg")


def test_unknown_option_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown Rackspace option"):
        CloudFilesStorageDriver("u", "k", tenant_name="x")  # type: ignore[call-arg]


async def test_api_key_authentication_and_catalog(mock: respx.MockRouter, identity: respx.Route) -> None:
    ord_head = mock.head(f"{ORD}/photos").respond(204, headers={"X-Container-Object-Count": "3"})
    dfw_head = mock.head(f"{DFW}/photos").respond(204)
    async with CloudFilesStorageDriver("demoauthor", API_KEY) as driver:  # region defaults to ord
        container = await driver.get_container("photos")
    assert container.extra["object_count"] == 3
    assert json.loads(identity.calls.last.request.content) == {
        "auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demoauthor", "apiKey": API_KEY}}
    }
    assert ord_head.calls.last.request.headers["x-auth-token"] == "ab48a9efdfedb23ty3494"
    async with CloudFilesStorageDriver("demoauthor", API_KEY, region="DFW") as driver:
        await driver.get_container("photos")
    assert dfw_head.call_count == 1


async def test_servicenet(mock: respx.MockRouter, identity: respx.Route) -> None:
    route = mock.head(f"{ORD_SNET}/photos").respond(204)
    cdn = mock.head(f"{CDN_ORD}/photos").mock(return_value=cdn_head())
    async with CloudFilesStorageDriver("demoauthor", API_KEY, interface="internal") as driver:
        await driver.get_container("photos")
        await driver.get_container_cdn_url(Container(name="photos"))  # the CDN API stays public
    assert route.call_count == cdn.call_count == 1


async def test_region_without_cloud_files_is_a_clear_error(identity: respx.Route) -> None:
    async with CloudFilesStorageDriver("demoauthor", API_KEY, region="hkg") as driver:
        with pytest.raises(ConfigurationError, match="region 'HKG'"):
            await driver.list_containers()


async def test_bad_api_key(mock: respx.MockRouter) -> None:
    mock.post(TOKENS).respond(401, json=load_rackspace("identity_v2_unauthorized.json"))
    async with CloudFilesStorageDriver("demoauthor", API_KEY) as driver:
        with pytest.raises(Exception, match="Username or api key is invalid") as info:
            await driver.list_containers()
    assert API_KEY not in str(info.value)
    assert type(info.value).__name__ == "AuthenticationError"
    assert API_KEY not in repr(driver)


# ---------------------------------------------------------------------------------------------- CDN


async def test_enable_container_cdn(mock: respx.MockRouter, files: CloudFilesStorageDriver) -> None:
    route = mock.put(f"{CDN_ORD}/site%20assets").respond(201)
    await files.bind(Container(name="site assets")).enable_cdn()
    assert route.calls.last.request.headers["x-cdn-enabled"] == "True"
    assert "x-ttl" not in route.calls.last.request.headers
    await files.enable_container_cdn(Container(name="site assets"), ex_ttl=900)
    assert route.calls.last.request.headers["x-ttl"] == "900"
    with pytest.raises(ConfigurationError, match="ex_ttl"):
        await files.enable_container_cdn(Container(name="x"), ex_ttl=0)


async def test_get_container_cdn_url(mock: respx.MockRouter, files: CloudFilesStorageDriver) -> None:
    mock.head(f"{CDN_ORD}/site").mock(return_value=cdn_head())
    site = files.bind(Container(name="site"))
    assert (
        await site.get_cdn_url()
        == "https://83c49b9a2f7ad18250b3-346eb45fd42c58ca13011d659bfc1ac1.ssl.cf0.rackcdn.com"
    )
    plain = await files.get_container_cdn_url(site, ex_ssl_uri=False)
    assert plain == "http://081e40d3ee1cec5f77bf-346eb45fd42c58ca13011d659bfc1ac1.r49.cf0.rackcdn.com"


async def test_container_not_on_the_cdn(mock: respx.MockRouter, files: CloudFilesStorageDriver) -> None:
    mock.head(f"{CDN_ORD}/never").respond(404)
    mock.head(f"{CDN_ORD}/disabled").respond(
        204, headers={"X-Cdn-Enabled": "False", "X-Cdn-Uri": "http://old"}
    )
    for name in ("never", "disabled"):
        with pytest.raises(NotFoundError, match="not CDN-enabled") as info:
            await files.get_container_cdn_url(Container(name=name))
        assert info.value.code == "NotCdnEnabled"


async def test_disable_container_cdn(mock: respx.MockRouter, files: CloudFilesStorageDriver) -> None:
    route = mock.post(f"{CDN_ORD}/site").respond(204)
    await files.ex_disable_container_cdn(Container(name="site"))
    assert route.calls.last.request.headers["x-cdn-enabled"] == "False"


async def test_object_cdn_url_on_a_published_container(
    mock: respx.MockRouter, files: CloudFilesStorageDriver
) -> None:
    mock.head(f"{CDN_ORD}/site").mock(return_value=cdn_head())
    obj = files.bind(Object(name="img/logo 1.png", size=1, container_name="site"))
    assert await obj.get_cdn_url() == (
        "https://83c49b9a2f7ad18250b3-346eb45fd42c58ca13011d659bfc1ac1.ssl.cf0.rackcdn.com/img/logo%201.png"
    )


async def test_object_cdn_url_falls_back_to_a_sha1_temp_url(
    mock: respx.MockRouter, files: CloudFilesStorageDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("asynccloud.drivers.openstack.swift._unix_time", lambda: 1_700_000_000)
    mock.head(f"{CDN_ORD}/private").respond(404)
    mock.head(ORD).respond(204, headers={"X-Account-Meta-Temp-Url-Key": "rax-temp-key"})
    obj = files.bind(Object(name="report.pdf", size=1, container_name="private"))
    url = await obj.get_cdn_url(expires=300)
    path = f"/v1/{ACCOUNT}/private/report.pdf"
    sig = hmac.new(b"rax-temp-key", f"GET\n1700000300\n{path}".encode(), "sha1").hexdigest()
    assert url == f"{ORD}/private/report.pdf?temp_url_sig={sig}&temp_url_expires=1700000300"


async def test_object_cdn_url_without_cdn_or_key(
    mock: respx.MockRouter, files: CloudFilesStorageDriver
) -> None:
    mock.head(f"{CDN_ORD}/private").respond(404)
    mock.head(ORD).respond(204)
    with pytest.raises(ConfigurationError, match="not CDN-enabled and there is no temp URL"):
        await files.get_object_cdn_url(Object(name="x", size=1, container_name="private"))


async def test_enable_object_cdn_is_not_supported(files: CloudFilesStorageDriver) -> None:
    with pytest.raises(NotSupportedError, match="publishes whole containers"):
        await files.enable_object_cdn(Object(name="x", size=1, container_name="c"))


# ----------------------------------------------------------------------------------- shared identity


async def test_one_rackspace_auth_for_several_drivers(mock: respx.MockRouter, identity: respx.Route) -> None:
    mock.head(f"{ORD}/a").respond(204)
    mock.head(f"{DFW}/b").respond(204)
    mock.head(f"{CDN_ORD}/a").mock(return_value=cdn_head())
    async with rackspace_auth("demoauthor", API_KEY) as auth:
        ord_files = CloudFilesStorageDriver(auth=auth, region="ord")
        dfw_files = CloudFilesStorageDriver(auth=auth, region="dfw")
        async with anyio.create_task_group() as tg:
            for _ in range(25):
                tg.start_soon(ord_files.get_container, "a")
                tg.start_soon(dfw_files.get_container, "b")
                tg.start_soon(ord_files.get_container_cdn_url, Container(name="a"))
        await ord_files.aclose()
        await dfw_files.aclose()
        assert identity.call_count == 1
        # What the compute engineer's drivers will do with the same object:
        assert await auth.endpoint_url("compute", service_name="cloudServersOpenStack", region="IAD") == (
            "https://iad.servers.api.rackspacecloud.com/v2/1100111"
        )
        assert (
            await auth.endpoint_url("rax:dns", region="ORD")
            == "https://dns.api.rackspacecloud.com/v1.0/1100111"
        )
        assert await auth.endpoint_url("rax:load-balancer", region="DFW") == (
            "https://dfw.loadbalancers.api.rackspacecloud.com/v1.0/1100111"
        )
    assert identity.call_count == 1


def test_auth_with_credentials_is_refused() -> None:
    auth = KeystoneAuth(IDENTITY_URL, rackspace_auth("u", "k").credentials)
    with pytest.raises(ConfigurationError, match="do not also pass key/secret"):
        CloudFilesStorageDriver("u", "k", auth=auth)


def test_openstack_options_for_other_services() -> None:
    opts = openstack_options(
        "iad", {"timeout": 5.0}, service_type="compute", service_name="cloudServersOpenStack"
    )
    assert opts == {
        "timeout": 5.0,
        "region": "IAD",
        "service_type": "compute",
        "service_name": "cloudServersOpenStack",
        "auth_url": IDENTITY_URL,
        "auth_version": "2.0",
        "auth_type": "api_key",
    }


# ----------------------------------------------------------------------- the founding document, storage


async def test_founding_document_storage_snippet(mock: respx.MockRouter, identity: respx.Route) -> None:
    listing = load_rackspace("cloudfiles_container_listing.json")
    mock.get(f"{ORD}/photos").respond(200, json=listing)
    mock.head(f"{ORD}/photos").respond(204, headers={"X-Container-Object-Count": "2"})
    bodies = {"cat.jpg": b"\xff\xd8" + b"c" * (3 << 20), "dog.jpg": b"\xff\xd8" + b"d" * 1000}
    for name, data in bodies.items():
        mock.get(f"{ORD}/photos/{name}").respond(200, content=data)
    mock.head(f"{CDN_ORD}/photos").mock(return_value=cdn_head())

    received: dict[str, bytes] = {}
    Storage = get_driver(DriverType.STORAGE, Provider.CLOUDFILES)
    async with Storage("demoauthor", API_KEY, region="ord") as cloudfiles:
        photos = await cloudfiles.get_container("photos")
        async for obj in photos.iterate_objects():
            async for chunk in obj.as_stream(chunk_size=1 << 20):
                received[obj.name] = received.get(obj.name, b"") + chunk
        urls = [await obj.get_cdn_url() for obj in await photos.list_objects()]
    assert received == bodies
    assert urls[0].endswith(".ssl.cf0.rackcdn.com/cat.jpg")
