"""KeystoneAuth: the v3/v2.0/v1.0 flows, token caching and renewal, concurrency, 401 handling, secrecy."""

from __future__ import annotations

import json
import logging
import pickle
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from asynccloud import (
    AuthenticationError,
    ConfigurationError,
    DriverType,
    Provider,
    ProviderError,
    TransportError,
    get_driver,
)
from asynccloud._http import HttpClient
from asynccloud.auth.keystone import (
    KeystoneAuth,
    StaticToken,
    V1Password,
    V2ApiKey,
    V2Password,
    V2Token,
    V3ApplicationCredential,
    V3Password,
    V3Scope,
    V3Token,
    auth_version_of,
    credentials_from_options,
)
from asynccloud.drivers.openstack import SwiftStorageDriver
from tests.drivers.openstack._support import (
    FAST_RETRY,
    ISSUED,
    KEYSTONE,
    PASSWORD,
    SWIFT,
    V2_TOKENS,
    V3_TOKENS,
    Clock,
    load,
    v2_access_response,
    v3_token_response,
)

if TYPE_CHECKING:
    import respx

pytestmark = pytest.mark.anyio


def password_auth(clock: Clock | None = None, **kw: Any) -> KeystoneAuth:
    credentials = V3Password(
        username="demo",
        password=PASSWORD,
        user_domain_name="Default",
        scope=V3Scope(project_name="demo", project_domain_name="Default"),
    )
    return KeystoneAuth(KEYSTONE, credentials, clock=clock or Clock(), retry=FAST_RETRY, **kw)


def body(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


# ------------------------------------------------------------------------------------------- v3


async def test_v3_password_project_scope(mock: respx.MockRouter) -> None:
    route = mock.post(V3_TOKENS).mock(return_value=v3_token_response("tok-1"))
    async with password_auth() as auth:
        access = await auth.access()
    assert access.token == "tok-1"
    assert access.project_id == "a6944d763bf64ee6a275f1263fae0352"
    assert access.user_id == "ee4dfb6e5540447cb3741905149d9b6e"
    assert access.expires_at == ISSUED + timedelta(hours=1)
    assert body(route) == {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"password": PASSWORD, "name": "demo", "domain": {"name": "Default"}}},
            },
            "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}},
        }
    }
    assert route.calls.last.request.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (V3Scope(project_id="p1"), {"project": {"id": "p1"}}),
        (
            V3Scope(project_name="demo", project_domain_id="d1"),
            {"project": {"name": "demo", "domain": {"id": "d1"}}},
        ),
        (V3Scope(domain_name="Engineering"), {"domain": {"name": "Engineering"}}),
        (V3Scope(domain_id="d7"), {"domain": {"id": "d7"}}),
        (V3Scope(), None),
    ],
)
async def test_v3_scopes(mock: respx.MockRouter, scope: V3Scope, expected: Any) -> None:
    route = mock.post(V3_TOKENS).mock(return_value=v3_token_response())
    creds = V3Password(user_id="u1", password=PASSWORD, scope=scope)
    async with KeystoneAuth(KEYSTONE + "/", creds) as auth:
        await auth.access()
    sent = body(route)["auth"]
    assert sent.get("scope") == expected
    assert sent["identity"]["password"]["user"] == {"password": PASSWORD, "id": "u1"}


async def test_v3_application_credential_by_id_and_by_name(mock: respx.MockRouter) -> None:
    route = mock.post(V3_TOKENS).mock(return_value=v3_token_response())
    async with KeystoneAuth(KEYSTONE, V3ApplicationCredential(id="ac1", secret="s3cret-app")) as auth:
        await auth.access()
    assert body(route) == {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"secret": "s3cret-app", "id": "ac1"},
            }
        }
    }
    named = V3ApplicationCredential(
        name="ci", username="demo", user_domain_name="Default", secret="s3cret-app"
    )
    async with KeystoneAuth(KEYSTONE, named) as auth:
        await auth.access()
    assert body(route)["auth"]["identity"]["application_credential"] == {
        "secret": "s3cret-app",
        "name": "ci",
        "user": {"name": "demo", "domain": {"name": "Default"}},
    }


async def test_v3_token_method_rescopes_an_existing_token(mock: respx.MockRouter) -> None:
    route = mock.post(V3_TOKENS).mock(return_value=v3_token_response("scoped"))
    async with KeystoneAuth(KEYSTONE, V3Token(token="unscoped", scope=V3Scope(project_id="p1"))) as auth:
        assert await auth.token() == "scoped"
    assert body(route)["auth"] == {
        "identity": {"methods": ["token"], "token": {"id": "unscoped"}},
        "scope": {"project": {"id": "p1"}},
    }


@pytest.mark.parametrize("url", [KEYSTONE, KEYSTONE + "/", "https://keystone.example.com:5000", V3_TOKENS])
async def test_v3_token_url_is_derived_from_the_auth_url(mock: respx.MockRouter, url: str) -> None:
    route = mock.post(V3_TOKENS).mock(return_value=v3_token_response())
    async with KeystoneAuth(url, V3ApplicationCredential(id="a", secret="b")) as auth:
        await auth.access()
    assert route.call_count == 1


# ------------------------------------------------------------------------------------------- v2


async def test_v2_password_with_tenant(mock: respx.MockRouter) -> None:
    route = mock.post(V2_TOKENS).mock(return_value=v2_access_response())
    creds = V2Password("demo", PASSWORD, tenant_name="demo")
    async with KeystoneAuth("https://keystone.example.com:5000/v2.0", creds, clock=Clock()) as auth:
        access = await auth.access()
        url = await auth.endpoint_url("object-store")
    assert body(route) == {
        "auth": {"passwordCredentials": {"username": "demo", "password": PASSWORD}, "tenantName": "demo"}
    }
    assert access.token == "aaaaa-bbbbb-ccccc-dddd"
    assert access.project_id == "fc394f2ab2df4114bde39905f800dc57"
    assert access.expires_at == ISSUED + timedelta(hours=1)
    assert url == "https://swift.example.com/v1/AUTH_fc394f2ab2df4114bde39905f800dc57"


async def test_v2_rackspace_api_key_and_token(mock: respx.MockRouter) -> None:
    route = mock.post(V2_TOKENS).mock(return_value=v2_access_response())
    async with KeystoneAuth(
        "https://keystone.example.com:5000/v2.0/", V2ApiKey("demo", "0123-api-key")
    ) as auth:
        await auth.access()
    assert body(route) == {
        "auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demo", "apiKey": "0123-api-key"}}
    }
    async with KeystoneAuth("https://keystone.example.com:5000", V2Token("old", tenant_id="t1")) as auth:
        await auth.access()
    assert body(route) == {"auth": {"token": {"id": "old"}, "tenantId": "t1"}}


# ------------------------------------------------------------------------------------------- v1


async def test_v1_tempauth(mock: respx.MockRouter) -> None:
    auth_url = "http://127.0.0.1:8080/auth/v1.0"
    route = mock.get(auth_url).respond(
        200,
        headers={
            "X-Auth-Token": "AUTH_tk1",
            "X-Storage-Token": "AUTH_tk1",
            "X-Auth-Token-Expires": "86399",
            "X-Storage-Url": "http://127.0.0.1:8080/v1/AUTH_test",
        },
    )
    async with KeystoneAuth(auth_url, V1Password("test:tester", "testing"), clock=Clock()) as auth:
        access = await auth.access()
        url = await auth.endpoint_url("object-store", region="anywhere")  # v1 endpoints are global
    request = route.calls.last.request
    assert request.headers["x-auth-user"] == "test:tester"
    assert request.headers["x-auth-key"] == "testing"
    assert access.token == "AUTH_tk1"
    assert access.expires_at == ISSUED + timedelta(seconds=86399)
    assert url == "http://127.0.0.1:8080/v1/AUTH_test"


async def test_v1_legacy_cdn_management_url(mock: respx.MockRouter) -> None:
    auth_url = "https://auth.api.rackspacecloud.com/v1.0"
    mock.get(auth_url).respond(
        204,
        headers={
            "X-Auth-Token": "tk",
            "X-Storage-Url": "https://storage101.ord1.clouddrive.com/v1/MossoCloudFS_x",
            "X-CDN-Management-Url": "https://cdn2.clouddrive.com/v1/MossoCloudFS_x",
        },
    )
    async with KeystoneAuth(auth_url, V1Password("user", "key")) as auth:
        assert await auth.endpoint_url("rax:object-cdn") == "https://cdn2.clouddrive.com/v1/MossoCloudFS_x"
        assert (await auth.access()).expires_at is None


async def test_v1_answer_without_storage_url_is_a_provider_error(mock: respx.MockRouter) -> None:
    mock.get("http://127.0.0.1:8080/auth/v1.0").respond(200, headers={"X-Auth-Token": "tk"})
    async with KeystoneAuth("http://127.0.0.1:8080/auth/v1.0", V1Password("u", "k")) as auth:
        with pytest.raises(ProviderError, match="no X-Auth-Token or X-Storage-Url"):
            await auth.access()


async def test_malformed_v3_answer(mock: respx.MockRouter) -> None:
    mock.post(V3_TOKENS).respond(201, json={"token": {}})  # no X-Subject-Token
    async with password_auth() as auth:
        with pytest.raises(ProviderError, match="no X-Subject-Token") as info:
            await auth.access()
    assert info.value.code == "MalformedTokenResponse"
    assert info.value.provider == "openstack"


# -------------------------------------------------------------------------------- static token


async def test_static_token_makes_no_identity_request(mock: respx.MockRouter) -> None:
    route = mock.get(f"{SWIFT}/box").respond(204)
    async with KeystoneAuth(None, StaticToken("given-token")) as auth:
        http = HttpClient(provider="openstack", auth=auth)
        await http.request("GET", f"{SWIFT}/box")
        await http.aclose()
    assert route.calls.last.request.headers["x-auth-token"] == "given-token"


async def test_static_token_401_is_not_retried(mock: respx.MockRouter) -> None:
    route = mock.get(f"{SWIFT}/box").respond(401)
    async with (
        KeystoneAuth(None, StaticToken("expired")) as auth,
        HttpClient(provider="openstack", auth=auth) as http,
    ):
        with pytest.raises(AuthenticationError):
            await http.request("GET", f"{SWIFT}/box")
    assert route.call_count == 1


# --------------------------------------------------------------------------- caching and renewal


async def test_token_is_cached_then_renewed_shortly_before_expiry(mock: respx.MockRouter) -> None:
    tokens = mock.post(V3_TOKENS).mock(side_effect=[v3_token_response("t1"), v3_token_response("t2")])
    clock = Clock()
    async with password_auth(clock) as auth:
        assert await auth.token() == "t1"
        clock.now = ISSUED + timedelta(minutes=57)  # 3 minutes left: more than the 2-minute margin
        assert await auth.token() == "t1"
        assert tokens.call_count == 1
        clock.now = ISSUED + timedelta(minutes=58, seconds=30)  # 90 s left: renew
        assert await auth.token() == "t2"
        assert tokens.call_count == 2
        assert auth.token_requests == 2


async def test_expiry_is_measured_by_the_services_clock(mock: respx.MockRouter) -> None:
    # The local clock is a week ahead of the identity service: the token still has its full hour.
    skewed = Clock(ISSUED + timedelta(days=7))
    tokens = mock.post(V3_TOKENS).mock(return_value=v3_token_response())
    async with password_auth(skewed) as auth:
        access = await auth.access()
        assert access.expires_at == skewed.now + timedelta(hours=1)
        await auth.access()
        assert tokens.call_count == 1
    # No issued_at in the token (Rackspace): the Date header is the service's "now".
    answer = load("keystone_v2_access.json")
    del answer["access"]["token"]["issued_at"]
    mock.post(V2_TOKENS).respond(200, json=answer, headers={"Date": "Tue, 24 Nov 2026 10:30:00 GMT"})
    async with KeystoneAuth(
        "https://keystone.example.com:5000/v2.0", V2ApiKey("u", "k"), clock=skewed
    ) as auth:
        assert (await auth.access()).expires_at == skewed.now + timedelta(minutes=30)


async def test_short_lived_tokens_use_half_their_lifetime_as_margin(mock: respx.MockRouter) -> None:
    answer = load("keystone_v3_token.json")
    answer["token"]["expires_at"] = "2026-11-24T10:01:00Z"  # a 60 s token; the 120 s margin would never fit
    tokens = mock.post(V3_TOKENS).respond(201, headers={"X-Subject-Token": "short"}, json=answer)
    clock = Clock()
    async with password_auth(clock) as auth:
        await auth.token()
        clock.now = ISSUED + timedelta(seconds=20)
        await auth.token()
        assert tokens.call_count == 1
        clock.now = ISSUED + timedelta(seconds=31)
        await auth.token()
        assert tokens.call_count == 2


async def test_invalidate_forces_a_new_token(mock: respx.MockRouter) -> None:
    tokens = mock.post(V3_TOKENS).mock(side_effect=[v3_token_response("t1"), v3_token_response("t2")])
    async with password_auth() as auth:
        assert await auth.token() == "t1"
        auth.invalidate()
        assert await auth.token() == "t2"
    assert tokens.call_count == 2


# ---------------------------------------------------------------------------------- concurrency


def swift_driver(auth: KeystoneAuth) -> SwiftStorageDriver:
    return SwiftStorageDriver(auth=auth, region="RegionOne", retry=FAST_RETRY)


async def test_hundred_concurrent_calls_cause_one_token_request(mock: respx.MockRouter) -> None:
    async def slow_token(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.05)  # everybody piles up behind the lock meanwhile
        return v3_token_response("only-one")

    tokens = mock.post(V3_TOKENS).mock(side_effect=slow_token)
    heads = mock.head(url__startswith=f"{SWIFT}/c").respond(204, headers={"X-Container-Object-Count": "0"})
    async with password_auth() as auth, swift_driver(auth) as driver, anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(driver.get_container, f"c{i}")
    assert tokens.call_count == 1
    assert heads.call_count == 100
    assert {call.request.headers["x-auth-token"] for call in heads.calls} == {"only-one"}


async def test_hundred_concurrent_calls_near_expiry_cause_one_renewal(mock: respx.MockRouter) -> None:
    issued = iter(["t1", "t2", "t3"])

    async def slow_token(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.05)
        return v3_token_response(next(issued))

    tokens = mock.post(V3_TOKENS).mock(side_effect=slow_token)
    heads = mock.head(url__startswith=f"{SWIFT}/c").respond(204)
    clock = Clock()
    async with password_auth(clock) as auth, swift_driver(auth) as driver:
        await driver.get_container("c-first")
        clock.now = ISSUED + timedelta(minutes=59)  # inside the 2-minute margin: every call wants a new one
        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(driver.get_container, f"c{i}")
    assert tokens.call_count == 2  # the first token, and ONE renewal for the 100 concurrent calls
    assert {call.request.headers["x-auth-token"] for call in heads.calls[1:]} == {"t2"}


async def test_401_burst_causes_exactly_one_reauthentication(mock: respx.MockRouter) -> None:
    tokens = mock.post(V3_TOKENS).mock(side_effect=[v3_token_response("revoked"), v3_token_response("fresh")])

    async def swift(request: httpx.Request) -> httpx.Response:
        await anyio.lowlevel.checkpoint()
        return httpx.Response(204 if request.headers["x-auth-token"] == "fresh" else 401)

    heads = mock.head(url__startswith=f"{SWIFT}/c").mock(side_effect=swift)
    async with password_auth() as auth, swift_driver(auth) as driver:
        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(driver.get_container, f"c{i}")
        assert tokens.call_count == 2  # the first token, and ONE re-authentication for 100 refusals
        assert heads.call_count == 200  # every call refused once, then resent once with the new token
        assert await auth.token() == "fresh"


async def test_second_401_is_an_authentication_error_after_one_reauth(mock: respx.MockRouter) -> None:
    tokens = mock.post(V3_TOKENS).mock(side_effect=[v3_token_response("a"), v3_token_response("b")])
    heads = mock.head(f"{SWIFT}/box").respond(401, text="<html><h1>Unauthorized</h1></html>")
    async with password_auth() as auth, swift_driver(auth) as driver:
        with pytest.raises(AuthenticationError) as info:
            await driver.get_container("box")
    assert tokens.call_count == 2
    assert heads.call_count == 2
    assert info.value.status == 401


async def test_failed_authentication_is_shared_by_the_waiters(mock: respx.MockRouter) -> None:
    async def refuse(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.05)
        return httpx.Response(401, json=load("keystone_v3_unauthorized.json"))

    tokens = mock.post(V3_TOKENS).mock(side_effect=refuse)
    errors: list[BaseException] = []

    async def call(auth: KeystoneAuth) -> None:
        try:
            await auth.access()
        except AuthenticationError as exc:
            errors.append(exc)

    async with password_auth() as auth:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(call, auth)
        assert tokens.call_count == 1
        assert len(errors) == 20
        assert "The request you have made requires authentication." in str(errors[0])
        with pytest.raises(AuthenticationError):  # a later call tries again
            await auth.access()
        assert tokens.call_count == 2


async def test_late_arrivals_share_the_failure_in_progress(mock: respx.MockRouter) -> None:
    started = anyio.Event()

    async def refuse(request: httpx.Request) -> httpx.Response:
        started.set()
        await anyio.sleep(0.05)
        return httpx.Response(401, json=load("keystone_v3_unauthorized.json"))

    tokens = mock.post(V3_TOKENS).mock(side_effect=refuse)
    async with password_auth() as auth:

        async def call() -> None:
            with pytest.raises(AuthenticationError):
                await auth.access()

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await started.wait()  # the first attempt is in flight: these arrive while it runs
            for _ in range(5):
                tg.start_soon(call)
        assert tokens.call_count == 1


async def test_identity_errors_are_retried_by_the_request_pipeline(mock: respx.MockRouter) -> None:
    tokens = mock.post(V3_TOKENS).mock(side_effect=[httpx.Response(503), v3_token_response("ok")])
    async with password_auth() as auth:
        assert await auth.token() == "ok"
    assert tokens.call_count == 2


async def test_unreachable_identity_is_a_transport_error(mock: respx.MockRouter) -> None:
    mock.post(V3_TOKENS).mock(side_effect=httpx.ConnectError("refused"))
    async with password_auth() as auth:
        with pytest.raises(TransportError):
            await auth.access()


async def test_streamed_body_is_not_resent_after_401(mock: respx.MockRouter) -> None:
    tokens = mock.post(V3_TOKENS).mock(side_effect=[v3_token_response("a"), v3_token_response("b")])
    puts = mock.put(f"{SWIFT}/box/o").respond(401)

    async def stream() -> Any:
        yield b"data"

    async with password_auth() as auth, HttpClient(provider="openstack", auth=auth) as http:
        with pytest.raises(AuthenticationError):
            await http.request("PUT", f"{SWIFT}/box/o", content=stream())
        assert puts.call_count == 1
        assert auth.cached is None  # the refused token is forgotten: the next call re-authenticates
        await auth.access()
    assert tokens.call_count == 2


# ------------------------------------------------------------------ driver keywords select the flow


async def test_driver_auth_version_1_0_is_tempauth_whatever_the_url(mock: respx.MockRouter) -> None:
    auth_url = "http://127.0.0.1:8080/auth"  # no version in the path: auth_version= decides
    storage = "http://127.0.0.1:8080/v1/AUTH_test"
    login = mock.get(auth_url).respond(200, headers={"X-Auth-Token": "AUTH_tk", "X-Storage-Url": storage})
    head = mock.head(f"{storage}/box").respond(204)
    Storage = get_driver(DriverType.STORAGE, Provider.OPENSTACK)
    async with Storage("test:tester", "testing", auth_url=auth_url, auth_version="1.0") as driver:
        await driver.get_container("box")
    assert isinstance(driver, SwiftStorageDriver)
    assert isinstance(driver.auth.credentials, V1Password)
    assert login.calls.last.request.headers["x-auth-user"] == "test:tester"
    assert login.calls.last.request.headers["x-auth-key"] == "testing"
    assert head.calls.last.request.headers["x-auth-token"] == "AUTH_tk"


async def test_driver_auth_version_2_0_password_with_tenant(mock: respx.MockRouter) -> None:
    tokens = mock.post(V2_TOKENS).mock(return_value=v2_access_response("v2-token"))
    head = mock.head("https://swift.example.com/v1/AUTH_fc394f2ab2df4114bde39905f800dc57/box").respond(204)
    Storage = get_driver(DriverType.STORAGE, Provider.OPENSTACK)
    async with Storage(
        "demo", PASSWORD, auth_url="https://keystone.example.com:5000", auth_version="2.0", tenant_name="demo"
    ) as driver:
        await driver.get_container("box")
    assert body(tokens) == {
        "auth": {"passwordCredentials": {"username": "demo", "password": PASSWORD}, "tenantName": "demo"}
    }
    assert head.calls.last.request.headers["x-auth-token"] == "v2-token"


async def test_driver_auth_version_3_user_and_project_in_their_own_domains(mock: respx.MockRouter) -> None:
    tokens = mock.post(V3_TOKENS).mock(return_value=v3_token_response("v3-token"))
    head = mock.head(f"{SWIFT}/box").respond(204)
    Storage = get_driver(DriverType.STORAGE, Provider.OPENSTACK)
    async with Storage(
        "demo",
        PASSWORD,
        auth_url="https://keystone.example.com:5000",
        auth_version="3",
        user_domain_name="Users",
        project_name="demo",
        project_domain_name="Projects",
        region="RegionOne",
    ) as driver:
        await driver.get_container("box")
    assert body(tokens)["auth"] == {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"password": PASSWORD, "name": "demo", "domain": {"name": "Users"}}},
        },
        "scope": {"project": {"name": "demo", "domain": {"name": "Projects"}}},
    }
    assert head.calls.last.request.headers["x-auth-token"] == "v3-token"


# -------------------------------------------------------------------------------------- secrecy


async def test_secrets_are_absent_from_repr_pickle_logs_and_errors(
    mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mock.post(V3_TOKENS).mock(return_value=v3_token_response("tok-SECRET-123"))
    mock.head(f"{SWIFT}/box").respond(401, text=f"token tok-SECRET-123 rejected for password {PASSWORD}")
    async with password_auth() as auth, swift_driver(auth) as driver:
        with pytest.raises(AuthenticationError) as info:
            await driver.get_container("box")
        shown = " ".join(
            [repr(auth), repr(auth.credentials), repr(auth.cached), repr(driver), str(info.value)]
        )
        for secret in (PASSWORD, "tok-SECRET-123"):
            assert secret not in shown
            assert secret not in caplog.text
        assert "***" in str(info.value)
        for thing in (auth, auth.credentials, auth.cached, driver):
            with pytest.raises(TypeError, match="cannot be pickled"):
                pickle.dumps(thing)


async def test_wrong_password_error_does_not_echo_it(mock: respx.MockRouter) -> None:
    mock.post(V3_TOKENS).respond(
        401, json={"error": {"code": 401, "title": "Unauthorized", "message": f"bad {PASSWORD}"}}
    )
    async with password_auth() as auth:
        with pytest.raises(AuthenticationError) as info:
            await auth.access()
    assert PASSWORD not in str(info.value)
    assert info.value.code == "Unauthorized"


# ------------------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("url", "version", "expected"),
    [
        ("http://127.0.0.1:8080/auth/v1.0", None, "1.0"),
        ("https://identity.api.rackspacecloud.com/v2.0/", None, "2.0"),
        ("https://keystone:5000/v3", None, "3"),
        ("https://keystone:5000/v3/auth/tokens", None, "3"),
        ("https://keystone:5000", None, "3"),
        ("https://keystone:5000", "2", "2.0"),
        ("https://keystone:5000", "v3", "3"),
    ],
)
def test_auth_version_is_read_from_the_url_unless_given(url: str, version: str | None, expected: str) -> None:
    assert auth_version_of(url, version) == expected


def test_options_map_onto_credentials() -> None:
    v3 = credentials_from_options("demo", PASSWORD, auth_url=KEYSTONE, tenant_name="demo", domain_name="Eng")
    assert isinstance(v3, V3Password)
    assert v3.user_domain_name == "Eng"
    assert v3.scope == V3Scope(project_name="demo", project_domain_name="Eng")
    default = credentials_from_options("demo", PASSWORD, auth_url=KEYSTONE, project_id="p1")
    assert isinstance(default, V3Password)
    assert default.user_domain_name == "Default"
    assert default.scope == V3Scope(project_id="p1")
    domain = credentials_from_options("demo", PASSWORD, auth_url=KEYSTONE, scope_domain_name="Eng")
    assert isinstance(domain, V3Password)
    assert domain.scope == V3Scope(domain_name="Eng")
    app = credentials_from_options("id1", "sec", auth_url=KEYSTONE, auth_type="application_credential")
    assert isinstance(app, V3ApplicationCredential)
    assert (app.id, app.secret) == ("id1", "sec")
    assert isinstance(credentials_from_options("u", "k", auth_url="http://h/auth/v1.0"), V1Password)
    v2 = credentials_from_options("u", "k", auth_url="https://h/v2.0", auth_type="api_key", tenant_id="t")
    assert isinstance(v2, V2ApiKey)
    assert v2.tenant_id == "t"
    assert isinstance(credentials_from_options(None, None, token="t", has_endpoint=True), StaticToken)
    token = credentials_from_options(None, None, token="t", auth_url=KEYSTONE, project_name="p")
    assert isinstance(token, V3Token)


@pytest.mark.parametrize(
    ("key", "secret", "kw", "message"),
    [
        ("u", "p", {}, "auth_url= is required"),
        (None, None, {"auth_url": KEYSTONE}, "need credentials"),
        ("u", "p", {"auth_url": KEYSTONE, "auth_version": "4"}, "auth_version must be one of"),
        ("u", "p", {"auth_url": KEYSTONE, "auth_type": "kerberos"}, "auth_type must be one of"),
        ("u", "p", {"auth_url": KEYSTONE, "auth_type": "api_key"}, "not available with identity v3"),
        (None, None, {"token": "t"}, "needs endpoint="),
        ("u", "p", {"auth_url": KEYSTONE, "tenant_name": "a", "project_name": "b"}, "same setting"),
        ("u", "p", {"auth_url": KEYSTONE, "tenant_name": "a", "scope_domain_name": "d"}, "not both"),
        ("u", "p", {"auth_url": KEYSTONE, "colour": "blue"}, "unknown identity option"),
    ],
)
def test_bad_options_are_configuration_errors(
    key: str | None, secret: str | None, kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        credentials_from_options(key, secret, **kw)


def test_constructor_checks() -> None:
    with pytest.raises(ConfigurationError, match="auth_url is required"):
        KeystoneAuth(None, V1Password("u", "k"))
    with pytest.raises(ConfigurationError, match="http"):
        KeystoneAuth("keystone:5000", V1Password("u", "k"))
    with pytest.raises(ConfigurationError, match="Credentials object"):
        KeystoneAuth(KEYSTONE, "password")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="domain"):
        V3Password(username="u", password="p")
    with pytest.raises(ConfigurationError, match="its domain"):
        V3Scope(project_name="p")
    with pytest.raises(ConfigurationError, match="id=, or name="):
        V3ApplicationCredential(secret="s")


def test_sync_use_is_refused() -> None:
    auth = KeystoneAuth(None, StaticToken("t"))
    transport = httpx.MockTransport(lambda r: httpx.Response(200))
    with httpx.Client(transport=transport) as client, pytest.raises(ConfigurationError, match="async-only"):
        client.get("https://x.example", auth=auth)
