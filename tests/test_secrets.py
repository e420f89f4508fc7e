"""No credential leaks: DEBUG logs of full traffic, repr/str, errors and pickles; TLS verified by default.

Each scenario runs a driver over respx with the ``asynccloud`` loggers at DEBUG and collects everything a
user could see or persist: the captured log text, ``repr``/``str`` of the driver, its HTTP client, its auth
object and credentials, the models it returned and every error raised along the way. None may contain a
secret (access key secret, session token, password, API key, auth token, temp URL key, private key).
Drivers and auth objects refuse pickling; models pickle without their secrets.
"""

from __future__ import annotations

import logging
import pickle
import ssl
import warnings
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from asynccloud import AsyncCloudError, InsecureTransportWarning, RetryPolicy
from asynccloud._http import HttpClient, _shared_ssl_context
from asynccloud.drivers.aws import S3StorageDriver
from asynccloud.drivers.aws.ec2 import EC2NodeDriver
from asynccloud.drivers.openstack import SwiftStorageDriver
from asynccloud.drivers.rackspace.dns import RackspaceDNSDriver
from asynccloud.models import Container
from tests.drivers.aws.conftest import error_response, fixture_text
from tests.drivers.openstack._support import KEYSTONE, SWIFT, V3_TOKENS, load, load_rackspace

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(max_attempts=2, backoff_base=0.0, backoff_max=0.0)
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY"
AWS_TOKEN = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN//////////wEaDKxyz0123456789"
OS_PASSWORD = "correct horse battery staple"
OS_TOKEN = "gAAAAABsecret-keystone-token-0123456789"
TEMP_URL_KEY = "temp-url-key-s3cr3t-9876"
NEW_TEMP_URL_KEY = "another-temp-url-key-s3cr3t-5432"
RACKSPACE_API_KEY = "0123456789abcdef0123456789abcdef"
RACKSPACE_TOKEN = "ab48a9efdfedb23ty3494"  # the token id of identity_v2_access.json
PRIVATE_KEY_MARK = "secretsecretsecret"  # the body of the private key in ec2_create_key_pair.xml


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="asynccloud")
    return caplog


class Exposure:
    """Everything a user could print, log or pickle during a scenario."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.errors: list[BaseException] = []

    def show(self, *objects: object) -> None:
        for obj in objects:
            self.texts += [repr(obj), str(obj)]

    async def attempt(self, call: Any) -> None:
        """Await ``call``, keeping the AsyncCloudError it raises (it must raise one)."""
        with pytest.raises(AsyncCloudError) as caught:
            await call
        self.errors.append(caught.value)
        self.show(caught.value, caught.value.args)

    def assert_clean(self, caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
        logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
        assert "asynccloud.http" in {r.name for r in caplog.records}, "DEBUG traffic logging did not run"
        for secret in secrets:
            assert secret not in logged, f"{secret[:6]}... in the DEBUG log"
            for text in self.texts:
                assert secret not in text, f"{secret[:6]}... in {text[:80]!r}"
            for error in self.errors:
                assert secret.encode() not in pickle.dumps(error), f"{secret[:6]}... in a pickled error"


def refuses_pickling(*objects: object) -> None:
    for obj in objects:
        with pytest.raises((TypeError, pickle.PicklingError, AsyncCloudError)):
            pickle.dumps(obj)


def internals(driver: Any) -> list[object]:
    """The driver, its HTTP client, auth object and credentials (whatever it holds)."""
    found: list[object] = [driver, driver._http]
    for holder in (driver, driver._http):
        for name in ("_auth", "_credentials", "credentials", "_access"):
            value = getattr(holder, name, None)
            if value is not None:
                found.append(value)
    auth = getattr(driver, "_auth", None)
    for name in ("credentials", "_credentials", "_access", "access"):
        value = getattr(auth, name, None)
        if value is not None and not callable(value):
            found.append(value)
    return found


# ------------------------------------------------------------------------------------------ S3 (SigV4)


async def test_s3_with_a_session_token_leaks_nothing(
    router: respx.MockRouter, debug_log: pytest.LogCaptureFixture
) -> None:
    base = "https://s3.example.test"
    router.put(f"{base}/bucket").respond(200)
    router.put(f"{base}/bucket/key").respond(200, headers={"ETag": '"9a0364b9e99bb480dd25e1f0284c8555"'})
    router.get(f"{base}/bucket/key").respond(200, content=b"content")
    router.get(f"{base}/bucket").respond(200, text=fixture_text("list_objects_v2_page2.xml"))
    # A proxy that echoes the request (credentials included) into its error body.
    router.head(f"{base}/bucket/echo").respond(
        403, headers={"x-amz-request-id": "R1"}, text=f"<Error><Message>{AWS_TOKEN}</Message></Error>"
    )
    router.delete(f"{base}/bucket/gone").mock(
        return_value=error_response(403, "SignatureDoesNotMatch", f"expected signature for {AWS_SECRET}")
    )
    seen = Exposure()
    s3 = S3StorageDriver(
        "AKIDEXAMPLE", AWS_SECRET, token=AWS_TOKEN, endpoint=base, region="us-east-1", retry=FAST
    )
    async with s3:
        container = await s3.create_container("bucket")
        obj = await s3.upload_object_via_stream(b"content", container, "key")
        data = b"".join([chunk async for chunk in s3.download_object_as_stream(obj)])
        listed = await s3.list_container_objects(container)
        url = await s3.get_object_cdn_url(obj, expires=60)
        await seen.attempt(s3.get_object("bucket", "echo"))
        await seen.attempt(s3.delete_object(obj.model_copy(update={"name": "gone"})))
        seen.show(*internals(s3), container, obj, *listed)
        refuses_pickling(*internals(s3))
        seen.texts.append(pickle.dumps([container, obj, *listed]).decode("latin-1"))
    assert data == b"content"
    assert "X-Amz-Signature=" in url  # presigned URLs are the one place a signature is meant to appear
    seen.assert_clean(debug_log, AWS_SECRET, AWS_TOKEN)


# ------------------------------------------------------------------------------------------ Keystone + Swift


async def test_keystone_and_swift_leak_nothing(
    router: respx.MockRouter, debug_log: pytest.LogCaptureFixture
) -> None:
    tokens = router.post(V3_TOKENS).mock(
        return_value=httpx.Response(
            201, headers={"X-Subject-Token": OS_TOKEN}, json=load("keystone_v3_token.json")
        )
    )
    router.put(f"{SWIFT}/box").respond(201)
    router.put(f"{SWIFT}/box/obj").respond(201, headers={"ETag": "9a0364b9e99bb480dd25e1f0284c8555"})
    router.head(f"{SWIFT}/box/missing").respond(404)
    router.get(f"{SWIFT}/box/obj").respond(401, text=f"token {OS_TOKEN} expired")
    router.post(SWIFT).respond(204)
    seen = Exposure()
    swift = SwiftStorageDriver(
        "demo",
        OS_PASSWORD,
        auth_url=KEYSTONE,
        tenant_name="demo",
        region="RegionOne",
        temp_url_key=TEMP_URL_KEY,
        retry=FAST,
    )
    async with swift:
        container = await swift.create_container("box")
        obj = await swift.upload_object_via_stream(b"content", container, "obj")
        url = await swift.get_object_cdn_url(obj, expires=60)
        await swift.ex_set_account_metadata_temp_url_key(NEW_TEMP_URL_KEY)
        await seen.attempt(swift.get_object("box", "missing"))
        await seen.attempt(swift.download_object(obj, "/nonexistent-dir/never-written"))
        await seen.attempt(_drain(swift.download_object_as_stream(obj)))
        seen.show(*internals(swift), container, obj)
        refuses_pickling(*internals(swift))
        seen.texts.append(pickle.dumps([container, obj]).decode("latin-1"))
    assert tokens.call_count >= 1
    assert "temp_url_sig=" in url
    seen.assert_clean(debug_log, OS_PASSWORD, OS_TOKEN, TEMP_URL_KEY, NEW_TEMP_URL_KEY)


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


# ------------------------------------------------------------------------------------------ Rackspace API key


async def test_rackspace_api_key_auth_leaks_nothing(
    router: respx.MockRouter, debug_log: pytest.LogCaptureFixture
) -> None:
    router.post("https://identity.api.rackspacecloud.com/v2.0/tokens").respond(
        200, json=load_rackspace("identity_v2_access.json")
    )
    dns_base = "https://dns.api.rackspacecloud.com/v1.0/1100111"
    router.get(url__startswith=f"{dns_base}/domains").mock(
        side_effect=[
            httpx.Response(200, json=load_rackspace("dns_domains_page1.json")),
            httpx.Response(200, json=load_rackspace("dns_domains_page2.json")),
            httpx.Response(404, json=load_rackspace("dns_not_found.json")),
        ]
    )
    seen = Exposure()
    async with RackspaceDNSDriver("demoauthor", RACKSPACE_API_KEY, retry=FAST) as dns:
        zones = await dns.list_zones()
        await seen.attempt(dns.get_zone("404404"))
        seen.show(*internals(dns), *zones)
        refuses_pickling(*internals(dns))
        seen.texts.append(pickle.dumps(zones).decode("latin-1"))
    assert zones
    seen.assert_clean(debug_log, RACKSPACE_API_KEY, RACKSPACE_TOKEN)


# ------------------------------------------------------------------------------------------ EC2 private key


async def test_ec2_create_key_pair_leaks_no_private_key(
    router: respx.MockRouter, debug_log: pytest.LogCaptureFixture
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        action = dict(httpx.QueryParams(request.content.decode()))["Action"]
        if action == "CreateKeyPair":
            return httpx.Response(200, text=fixture_text("ec2_create_key_pair.xml"))
        return httpx.Response(400, text=fixture_text("ec2_error.xml", code="AuthFailure", message=AWS_SECRET))

    router.post(url__startswith="https://ec2.example.test").mock(side_effect=answer)
    seen = Exposure()
    ec2 = EC2NodeDriver(
        "AKIDEXAMPLE", AWS_SECRET, token=AWS_TOKEN, endpoint="https://ec2.example.test", region="us-east-1"
    )
    async with ec2:
        pair = await ec2.create_key_pair("my-key-pair")
        await seen.attempt(ec2.list_nodes())
        seen.show(*internals(ec2), pair, pair.model_dump(), pair.model_dump_json())
        refuses_pickling(*internals(ec2))
        restored = pickle.loads(pickle.dumps(pair))
        seen.texts.append(pickle.dumps(pair).decode("latin-1"))
    assert pair.private_key is not None
    assert PRIVATE_KEY_MARK in pair.private_key.get_secret_value()  # the caller does get it, once
    assert restored.private_key is None
    seen.assert_clean(debug_log, PRIVATE_KEY_MARK, AWS_SECRET, AWS_TOKEN)


# ------------------------------------------------------------------------------------------ TLS


def test_tls_verification_is_on_by_default() -> None:
    context = _shared_ssl_context(True)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default builds no insecure client and says nothing
        client = HttpClient(provider="test")
        s3 = S3StorageDriver("AKIDEXAMPLE", AWS_SECRET, region="us-east-1")
    for pool in (*client._clients, *s3._http._clients):
        assert _verifying(pool)


def _verifying(client: httpx.AsyncClient) -> bool:
    pool = getattr(client._transport, "_pool", None)
    context = getattr(pool, "_ssl_context", None)
    if context is None:  # another transport: it was built with the shared verifying context
        return True
    return bool(context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname)


def test_turning_tls_verification_off_warns() -> None:
    with pytest.warns(InsecureTransportWarning, match="verification is off"):
        client = HttpClient(provider="test", verify=False)
    for pool in client._clients:
        context = getattr(getattr(pool._transport, "_pool", None), "_ssl_context", None)
        assert context is None or context.verify_mode is ssl.CERT_NONE
    with pytest.warns(InsecureTransportWarning):
        S3StorageDriver("AKIDEXAMPLE", AWS_SECRET, region="us-east-1", verify=False)
    assert issubclass(InsecureTransportWarning, UserWarning)


def test_a_shared_client_or_a_context_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HttpClient(provider="test", http_client=httpx.AsyncClient())
        HttpClient(provider="test", verify=ssl.create_default_context())


def test_the_buckets_model_pickles_without_a_driver() -> None:
    restored = pickle.loads(pickle.dumps(Container(name="b")))
    assert restored == Container(name="b")
    assert not restored.is_bound
