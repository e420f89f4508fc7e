"""The Swift driver against faked HTTP shaped like the Swift API reference: requests sent, answers read."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from asynccloud import (
    AuthenticationError,
    Capability,
    ConfigurationError,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    DriverType,
    IntegrityError,
    InvalidNameError,
    InvalidRequestError,
    NotSupportedError,
    ObjectNotFoundError,
    Provider,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    get_driver,
)
from asynccloud.drivers.base import StorageDriver
from asynccloud.drivers.openstack import SwiftStorageDriver
from asynccloud.drivers.openstack import _slo as slo_module
from asynccloud.models import Container, Object
from tests.drivers.openstack._support import (
    KEYSTONE,
    PASSWORD,
    SWIFT,
    SWIFT_REGION2,
    box,
    load,
    md5,
)

if TYPE_CHECKING:
    import respx

pytestmark = pytest.mark.anyio


# -------------------------------------------------------------------------------- construction


async def test_registry_protocol_and_capabilities(tokens: respx.Route) -> None:
    cls = get_driver(DriverType.STORAGE, Provider.OPENSTACK)
    assert cls is SwiftStorageDriver
    async with cls("u", "p", auth_url=KEYSTONE, region="RegionOne") as driver:
        assert isinstance(driver, StorageDriver)
        assert driver.supports(Capability.SIGNED_URLS)
        assert driver.supports(Capability.MULTIPART_UPLOADS)
        assert not driver.supports(Capability.CONTAINER_CDN)
        with pytest.raises(NotSupportedError):
            await driver.enable_container_cdn(Container(name="x"))
    assert tokens.call_count == 0  # nothing is requested before the first call


async def test_region_and_interface_pick_the_endpoint(mock: respx.MockRouter, tokens: respx.Route) -> None:
    two = mock.head(f"{SWIFT_REGION2}/box").respond(204)
    internal = mock.head(url__regex=r"^http://swift\.internal\.example\.com:8080/v1/AUTH_\w+/box$").respond(
        204
    )
    async with SwiftStorageDriver("u", "p", auth_url=KEYSTONE, region="RegionTwo") as driver:
        await driver.get_container("box")
    async with SwiftStorageDriver(
        "u", "p", auth_url=KEYSTONE, region="RegionOne", interface="internal"
    ) as driver:
        await driver.get_container("box")
    assert two.call_count == internal.call_count == 1


async def test_endpoint_override_skips_the_catalog(mock: respx.MockRouter, tokens: respx.Route) -> None:
    route = mock.head("http://127.0.0.1:9/v1/AUTH_x/box").respond(204)
    async with SwiftStorageDriver(
        "u", "p", auth_url=KEYSTONE, endpoint="http://127.0.0.1:9/v1/AUTH_x/"
    ) as driver:
        await driver.get_container("box")
    assert route.call_count == 1
    assert tokens.call_count == 1  # still authenticates for the token


async def test_token_with_endpoint_needs_no_identity(mock: respx.MockRouter, tokens: respx.Route) -> None:
    route = mock.head("http://127.0.0.1:9/v1/AUTH_x/box").respond(204)
    async with SwiftStorageDriver(token="given", endpoint="http://127.0.0.1:9/v1/AUTH_x") as driver:
        await driver.get_container("box")
    assert route.calls.last.request.headers["x-auth-token"] == "given"
    assert tokens.call_count == 0


async def test_other_services_of_the_same_region_and_interface(tokens: respx.Route) -> None:
    async with SwiftStorageDriver(
        "u", "p", auth_url=KEYSTONE, region="RegionOne", interface="internal"
    ) as driver:
        assert await driver._catalog_url("compute") == "http://nova.internal.example.com:8774/v2.1"
        assert driver.service.service_type == "object-store"
        assert driver.auth.version == "3"


async def test_ambiguous_region_is_reported(tokens: respx.Route) -> None:
    async with SwiftStorageDriver("u", "p", auth_url=KEYSTONE) as driver:
        with pytest.raises(ConfigurationError, match="pass region="):
            await driver.get_container("box")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"part_size": 0}, "part_size must be a positive int"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"temp_url_digest": "md5"}, "temp_url_digest must be one of"),
        ({"colour": "blue"}, "unknown option"),
        ({"segment_container": "{container}/segments"}, "not a valid container name"),
        ({"interface": "private"}, "interface must be one of"),
    ],
)
def test_constructor_checks(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SwiftStorageDriver("u", "p", auth_url=KEYSTONE, **kw)


# ---------------------------------------------------------------------------------- containers


async def test_iterate_containers_follows_the_marker_to_the_end(
    mock: respx.MockRouter, tokens: respx.Route
) -> None:
    route = mock.get(SWIFT).mock(
        side_effect=[
            httpx.Response(200, json=load("swift_account_page1.json")),
            httpx.Response(200, json=load("swift_account_page2.json")),
        ]
    )
    async with SwiftStorageDriver("u", "p", auth_url=KEYSTONE, region="RegionOne", page_size=2) as driver:
        containers = await driver.list_containers()
    assert [c.name for c in containers] == ["janeausten", "marktwain", "shakespeare"]
    assert containers[1].extra["object_count"] == 1
    assert containers[1].extra["bytes_used"] == 14
    first, second = (dict(call.request.url.params) for call in route.calls)
    assert first == {"format": "json", "limit": "2"}
    assert second == {"format": "json", "limit": "2", "marker": "marktwain"}
    assert containers[2].is_bound


async def test_iterate_objects_with_prefix_to_the_end(mock: respx.MockRouter, tokens: respx.Route) -> None:
    route = mock.get(f"{SWIFT}/box").mock(
        side_effect=[
            httpx.Response(200, json=load("swift_container_page1.json")),
            httpx.Response(200, json=load("swift_container_page2.json")),
        ]
    )
    async with SwiftStorageDriver("u", "p", auth_url=KEYSTONE, region="RegionOne", page_size=2) as driver:
        objects = await driver.list_container_objects(box(driver), prefix="g")
    assert [o.name for o in objects] == ["goodbye", "helloworld", "movie.mp4"]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"format": "json", "limit": "2", "prefix": "g"},
        {"format": "json", "limit": "2", "prefix": "g", "marker": "helloworld"},
    ]
    plain, slo = objects[0], objects[2]
    assert (plain.size, plain.hash, plain.content_type) == (
        14,
        "451e372e48e0f6b1114fa0724aa79fa1",
        "application/octet-stream",
    )
    assert plain.last_modified is not None
    assert plain.last_modified.year == 2014
    assert plain.extra == {"static_large_object": False}
    assert slo.hash == "d9ca98f2c84919f7bd42cef09bb2f9f1"  # the SLO ETag, not the manifest's MD5
    assert slo.extra["static_large_object"] is True
    assert slo.extra["manifest_etag"] == "7b35089f41f2c1a41db7c2314a6f75ad"


async def test_empty_listing_answers(mock: respx.MockRouter, swift: SwiftStorageDriver) -> None:
    mock.get(f"{SWIFT}/box").mock(side_effect=[httpx.Response(204), httpx.Response(200, json=[])])
    assert await swift.list_container_objects(box(swift)) == []
    assert await swift.list_container_objects(box(swift)) == []


async def test_get_container_reads_counts_and_metadata(
    mock: respx.MockRouter, swift: SwiftStorageDriver
) -> None:
    mock.head(f"{SWIFT}/box").respond(
        204,
        headers={
            "X-Container-Object-Count": "7",
            "X-Container-Bytes-Used": "1234",
            "X-Container-Meta-Colour": "blue",
            "X-Storage-Policy": "gold",
        },
    )
    container = await swift.get_container("box")
    assert container.extra == {
        "object_count": 7,
        "bytes_used": 1234,
        "meta_data": {"colour": "blue"},
        "storage_policy": "gold",
    }


async def test_container_errors(mock: respx.MockRouter, swift: SwiftStorageDriver) -> None:
    mock.head(f"{SWIFT}/missing").respond(
        404, text="<html><h1>Not Found</h1><p>The resource could not be found.</p></html>"
    )
    mock.put(f"{SWIFT}/taken").respond(202)
    mock.put(f"{SWIFT}/new").respond(201)
    mock.delete(f"{SWIFT}/full").respond(
        409, text="<html><h1>Conflict</h1></html>", headers={"X-Trans-Id": "tx123"}
    )
    mock.delete(f"{SWIFT}/missing").respond(404)
    with pytest.raises(ContainerNotFoundError) as info:
        await swift.get_container("missing")
    assert "The resource could not be found." in str(info.value)
    with pytest.raises(ContainerAlreadyExistsError):
        await swift.create_container("taken")
    assert (await swift.create_container("new")).name == "new"
    with pytest.raises(ContainerNotEmptyError) as conflict:
        await swift.delete_container(Container(name="full"))
    assert conflict.value.request_id == "tx123"
    with pytest.raises(ContainerNotFoundError):
        await swift.delete_container(Container(name="missing"))
    with pytest.raises(InvalidNameError):
        await swift.create_container("a/b")


# ------------------------------------------------------------------------------------- objects


async def test_get_object_reads_headers(mock: respx.MockRouter, swift: SwiftStorageDriver) -> None:
    route = mock.head(f"{SWIFT}/box/dir/na%20me%C3%BC.txt").respond(
        200,
        headers={
            "Content-Length": "11",
            "Content-Type": "text/plain",
            "ETag": "5eb63bbbe01eeed093cb22bb8f5acdc3",
            "Last-Modified": "Tue, 24 Nov 2026 17:55:38 GMT",
            "X-Timestamp": "1795542937.16188",
            "X-Object-Meta-Owner": "ana",
        },
    )
    obj = await swift.get_object("box", "dir/na meü.txt")
    assert route.call_count == 1
    assert (obj.size, obj.hash, obj.content_type, obj.meta_data) == (
        11, "5eb63bbbe01eeed093cb22bb8f5acdc3", "text/plain", {"owner": "ana"},
    )  # fmt: skip
    assert obj.last_modified is not None
    assert obj.last_modified.tzinfo is not None
    assert obj.extra == {"static_large_object": False, "timestamp": "1795542937.16188"}
    assert swift._content_md5(obj) == "5eb63bbbe01eeed093cb22bb8f5acdc3"


async def test_slo_head_has_no_content_md5(mock: respx.MockRouter, swift: SwiftStorageDriver) -> None:
    mock.head(f"{SWIFT}/box/movie").respond(
        200,
        headers={
            "Content-Length": "1048676",
            "ETag": '"f73ee4d02b3e9041c4fca716007e1ea5"',
            "X-Static-Large-Object": "True",
            "X-Manifest-Etag": "2f81f25859efa4078aa71a017195178c",
        },
    )
    obj = await swift.get_object("box", "movie")
    assert obj.hash == "f73ee4d02b3e9041c4fca716007e1ea5"
    assert obj.extra["static_large_object"] is True
    assert swift._content_md5(obj) is None


async def test_missing_object_and_dot_segments(mock: respx.MockRouter, swift: SwiftStorageDriver) -> None:
    route = mock.head(f"{SWIFT}/box/a/%2E%2E/b").respond(404)
    with pytest.raises(ObjectNotFoundError):
        await swift.get_object("box", "a/../b")
    assert route.call_count == 1  # the ".." reached Swift as part of the name


async def test_single_put_upload(mock: respx.MockRouter, tokens: respx.Route) -> None:
    data = b"hello world"
    route = mock.put(f"{SWIFT}/box/docs/greeting.txt").respond(
        201, headers={"ETag": md5(data), "Last-Modified": "Tue, 24 Nov 2026 17:55:38 GMT"}
    )
    async with SwiftStorageDriver("u", "p", auth_url=KEYSTONE, region="RegionOne") as driver:
        obj = await box(driver).upload_object_via_stream(
            data, "docs/greeting.txt", meta_data={"Owner": "ana"}
        )
    request = route.calls.last.request
    assert request.content == data
    assert request.headers["etag"] == md5(data)
    assert request.headers["content-type"] == "text/plain"
    assert request.headers["x-object-meta-owner"] == "ana"
    assert (obj.size, obj.hash, obj.meta_data) == (11, md5(data), {"owner": "ana"})
    assert obj.extra == {"static_large_object": False}


async def test_upload_of_a_corrupted_body_is_an_integrity_error(
    mock: respx.MockRouter, swift: SwiftStorageDriver
) -> None:
    mock.put(f"{SWIFT}/box/o").respond(422, text="<html><h1>Unprocessable Entity</h1></html>")
    with pytest.raises(IntegrityError, match="MD5"):
        await box(swift).upload_object_via_stream(b"abc", "o", content_type="application/x-test")


async def test_upload_into_a_missing_container(mock: respx.MockRouter, swift: SwiftStorageDriver) -> None:
    mock.put(f"{SWIFT}/nope/o").respond(404)
    with pytest.raises(ContainerNotFoundError):
        await swift.bind(Container(name="nope")).upload_object_via_stream(b"abc", "o")


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"bad_key": "v"}, "without '_'"),
        ({"k": "caf\u00e9"}, "printable ASCII"),
        ({"k": "a\r\nb"}, "one line"),
    ],
)
async def test_meta_data_is_checked_before_sending(
    swift: SwiftStorageDriver, meta: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        await box(swift).upload_object_via_stream(b"abc", "o", meta_data=meta)


# ----------------------------------------------------------------------------- error mapping


async def test_throttling_and_server_errors_are_retried(
    mock: respx.MockRouter, swift: SwiftStorageDriver
) -> None:
    route = mock.head(f"{SWIFT}/box").mock(
        side_effect=[httpx.Response(498), httpx.Response(429), httpx.Response(503), httpx.Response(204)]
    )
    retry = RetryPolicy(max_attempts=4, backoff_base=0)
    async with SwiftStorageDriver(
        "demo", PASSWORD, auth_url=KEYSTONE, region="RegionOne", retry=retry
    ) as driver:
        await driver.get_container("box")
    assert route.call_count == 4
    mock.head(f"{SWIFT}/slow").respond(498)
    with pytest.raises(RateLimitedError):
        await swift.get_container("slow")
    mock.head(f"{SWIFT}/broken").respond(500)
    with pytest.raises(ServerError):
        await swift.get_container("broken")


async def test_401_from_swift_is_an_authentication_error(mock: respx.MockRouter, tokens: respx.Route) -> None:
    mock.head(f"{SWIFT}/box").respond(401)
    async with SwiftStorageDriver("u", "p", auth_url=KEYSTONE, region="RegionOne") as driver:
        with pytest.raises(AuthenticationError):
            await driver.get_container("box")
    assert tokens.call_count == 2  # one re-authentication was tried


async def test_range_not_satisfiable(mock: respx.MockRouter, swift: SwiftStorageDriver) -> None:
    mock.get(f"{SWIFT}/box/o").respond(416)
    obj = swift.bind(Object(name="o", size=1, container_name="box"))
    with pytest.raises(InvalidRequestError) as info:
        _ = [c async for c in obj.range_as_stream(5, 9)]
    assert info.value.code == "RangeNotSatisfiable"


# ---------------------------------------------------------------------------------- temp URLs


def test_signature_matches_the_tempurl_documentation_example() -> None:
    # The tempurl middleware docs' HMAC-SHA512 example: key "mykey", GET, expires 1516741234.
    from asynccloud.drivers.openstack import temp_url_signature

    sig = temp_url_signature("mykey", "GET", 1516741234, "/v1/AUTH_account/container/object", "sha512")
    assert (
        sig
        == "sha512:ZrSijn0GyDhsv1ltIj9hWUTrbAeE45NcKXyBaz7aPbSMvROQ4jtYH4nRAmm5ErY2X11Yc1Yhy2OMCyN3yueeXg=="
    )


@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_hex_signatures_follow_the_documented_algorithm(digest: str) -> None:
    import hmac

    from asynccloud.drivers.openstack import temp_url_signature

    body = "PUT\n1323479485\n/v1/AUTH_account/container/object"
    expected = hmac.new(b"mykey", body.encode(), digest).hexdigest()
    assert (
        temp_url_signature("mykey", "PUT", 1323479485, "/v1/AUTH_account/container/object", digest)
        == expected
    )
    assert len(expected) == {"sha1": 40, "sha256": 64}[digest]


async def test_object_temp_url(
    swift: SwiftStorageDriver,
    mock: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import hmac

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("asynccloud.drivers.openstack.swift._unix_time", lambda: 1_700_000_000.5)
    mock.head(SWIFT).respond(204, headers={"X-Account-Meta-Temp-Url-Key": "acct-key"})
    obj = swift.bind(Object(name="dir/a b.txt", size=1, container_name="box"))
    url = await obj.get_cdn_url(expires=60)
    path = "/v1/AUTH_a6944d763bf64ee6a275f1263fae0352/box/dir/a b.txt"
    sig = hmac.new(b"acct-key", f"GET\n1700000060\n{path}".encode(), "sha256").hexdigest()
    assert url == f"{SWIFT}/box/dir/a%20b.txt?temp_url_sig={sig}&temp_url_expires=1700000060"
    assert "acct-key" not in caplog.text  # the account key read from the HEAD answer is not logged
    assert "x-account-meta-temp-url-key': '***'" in caplog.text


async def test_set_temp_url_key(
    mock: respx.MockRouter, swift: SwiftStorageDriver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    route = mock.post(SWIFT).respond(204)
    await swift.ex_set_account_metadata_temp_url_key("new-temp-key")
    assert route.calls.last.request.headers["x-account-meta-temp-url-key"] == "new-temp-key"
    url = await swift.get_object_cdn_url(Object(name="o", size=1, container_name="box"), method="put")
    assert "temp_url_sig=" in url
    assert "new-temp-key" not in caplog.text


async def test_temp_url_needs_a_key(mock: respx.MockRouter, swift: SwiftStorageDriver) -> None:
    mock.head(SWIFT).respond(204)
    with pytest.raises(ConfigurationError, match="no temp URL key"):
        await swift.get_object_cdn_url(Object(name="o", size=1, container_name="box"))
    with pytest.raises(ConfigurationError, match="method must be one of"):
        await swift.get_object_cdn_url(Object(name="o", size=1, container_name="box"), method="PATCH")
    with pytest.raises(ConfigurationError, match="expires must be"):
        await swift.get_object_cdn_url(Object(name="o", size=1, container_name="box"), expires=0)


async def test_slo_module_cleanup_deadline_is_bounded() -> None:
    assert 0 < slo_module.CLEANUP_TIMEOUT <= 120
