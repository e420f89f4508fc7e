"""AWS Signature Version 4: published vectors, the httpx flow end to end, presigning, secret hygiene."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asynccloud.auth import sigv4
from asynccloud.auth.aws_credentials import AwsCredentials
from asynccloud.auth.sigv4 import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    SigV4Auth,
    canonical_headers,
    canonical_query_string,
    canonical_request,
    canonical_uri,
    credential_scope,
    presign_url,
    signature,
    signing_key,
    string_to_sign,
)
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

pytestmark = pytest.mark.anyio

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "sigv4_vectors.json").read_text(encoding="utf-8")
)
SUITE: dict[str, Any] = VECTORS["suite"]
S3_DOCS: dict[str, Any] = VECTORS["s3_docs"]
SUITE_BY_NAME: dict[str, dict[str, Any]] = {v["name"]: v for v in SUITE["vectors"]}
S3_BY_NAME: dict[str, dict[str, Any]] = {v["name"]: v for v in S3_DOCS["vectors"]}


def _moment(amz_date: str) -> datetime:
    return datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _fixed(amz_date: str) -> Callable[[], datetime]:
    moment = _moment(amz_date)
    return lambda: moment


def _pairs(raw: list[list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in raw]


def _sign_vector(group: dict[str, Any], vector: dict[str, Any], **flags: bool) -> tuple[str, str, str]:
    """Run the pure functions on one vector; return (canonical request, string to sign, signature)."""
    body = vector.get("body", "").encode("utf-8")
    payload = vector.get("payload_hash") or hashlib.sha256(body).hexdigest()
    creq = canonical_request(
        vector.get("method", "GET"),
        vector["path"],
        vector.get("query", ""),
        _pairs(vector["headers"]),
        payload,
        **flags,
    )
    date = group["amz_date"][:8]
    scope = credential_scope(date, group["region"], group["service"])
    sts = string_to_sign(group["amz_date"], scope, creq)
    key = signing_key(group["secret_access_key"], date, group["region"], group["service"])
    return creq, sts, signature(key, sts)


def _authorization_parts(value: str) -> dict[str, str]:
    algorithm, _, rest = value.partition(" ")
    assert algorithm == "AWS4-HMAC-SHA256"
    return dict(item.strip().split("=", 1) for item in rest.split(","))


# --- the published vectors, through the pure functions ----------------------------------------------


@pytest.mark.parametrize("vector", SUITE["vectors"], ids=lambda v: v["name"])
def test_suite_vector_pure_functions(vector: dict[str, Any]) -> None:
    creq, sts, sig = _sign_vector(SUITE, vector, normalize_path=vector["normalize"])
    assert creq.split("\n")[-2] == vector["signed_headers"]
    if "canonical_request" in vector:
        assert creq == vector["canonical_request"]
    if "string_to_sign" in vector:
        assert sts == vector["string_to_sign"]
    assert sig == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS["botocore_2011"]["vectors"], ids=lambda v: v["name"])
def test_already_encoded_paths_are_encoded_again_outside_s3(vector: dict[str, Any]) -> None:
    creq, sts, sig = _sign_vector(VECTORS["botocore_2011"], vector)
    assert creq == vector["canonical_request"]
    assert sts == vector["string_to_sign"]
    assert sig == vector["signature"]


@pytest.mark.parametrize("vector", S3_DOCS["vectors"], ids=lambda v: v["name"])
def test_s3_documentation_examples_pure_functions(vector: dict[str, Any]) -> None:
    creq, _, sig = _sign_vector(S3_DOCS, vector, normalize_path=False, double_encode=False)
    assert creq.split("\n")[-2] == vector["signed_headers"]
    if "canonical_request_sha256" in vector:
        assert hashlib.sha256(creq.encode()).hexdigest() == vector["canonical_request_sha256"]
    assert sig == vector["signature"]


@pytest.mark.parametrize("case", VECTORS["general_reference"]["signing_keys"], ids=lambda c: c["date"])
def test_documented_signing_keys(case: dict[str, str]) -> None:
    key = signing_key(case["secret"], case["date"], case["region"], case["service"])
    assert key.hex() == case["key"]


def test_documented_iam_list_users_example() -> None:
    case = VECTORS["general_reference"]["iam_list_users"]
    url = urlsplit(case["url"])
    creq = canonical_request(case["method"], url.path, url.query, _pairs(case["headers"]), EMPTY_SHA256)
    assert creq == case["canonical_request"]
    scope = credential_scope(case["amz_date"][:8], case["region"], case["service"])
    sts = string_to_sign(case["amz_date"], scope, creq)
    assert sts == case["string_to_sign"]
    key = signing_key(case["secret_access_key"], case["amz_date"][:8], case["region"], case["service"])
    assert signature(key, sts) == case["signature"]


# --- canonical pieces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=2&a=1&b=", "a=1&a=2&b="),
        ("b&a", "a=&b="),
        ("&&a=1&", "a=1"),
        ("k=a b", "k=a%20b"),
        ("k=a+b", "k=a%20b"),
        ("k=a%2Bb", "k=a%2Bb"),
        ("k=%7e%7E~", "k=~~~"),
        ("k=%2f/", "k=%2F%2F"),
        ("k=!*'();:@&=$,?#[]", "=%24%2C%3F%23%5B%5D&k=%21%2A%27%28%29%3B%3A%40"),
        ("Z=1&a=1&%C3%A9=1", "%C3%A9=1&Z=1&a=1"),
        ("=v", "=v"),
    ],
)
def test_canonical_query_string(query: str, expected: str) -> None:
    assert canonical_query_string(query) == expected


def test_canonical_query_from_decoded_pairs() -> None:
    pairs = [("prefix", "photos/é 2013"), ("a", ""), ("a", "~x y+z")]
    assert canonical_query_string(pairs) == "a=&a=~x%20y%2Bz&prefix=photos%2F%C3%A9%202013"


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=6))
def test_canonical_query_is_the_same_for_pairs_and_their_encoding(pairs: list[tuple[str, str]]) -> None:
    wire = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    assert canonical_query_string(wire) == canonical_query_string(pairs)


@pytest.mark.parametrize(
    ("path", "normalized"),
    [
        ("", "/"),
        ("/", "/"),
        ("/a/b/../c", "/a/c"),
        ("/a/.", "/a/"),
        ("/a/b/..", "/a/"),
        ("/../a", "/a"),
        ("//a//b", "/a/b"),
        ("/a/b/", "/a/b/"),
    ],
)
def test_path_normalization(path: str, normalized: str) -> None:
    assert canonical_uri(path) == normalized


def test_s3_paths_are_neither_normalized_nor_double_encoded() -> None:
    assert canonical_uri("/a//b/../c%20d", normalize=False, double_encode=False) == "/a//b/../c%20d"
    assert canonical_uri("/a b/$+~", normalize=False, double_encode=False) == "/a%20b/%24%2B~"
    assert canonical_uri("/a%20b", normalize=True, double_encode=True) == "/a%2520b"


def test_canonical_headers_trim_fold_and_join() -> None:
    block, signed = canonical_headers(
        [("X-B", "  two\t  words "), ("host", "h"), ("x-b", "again"), ("X-A", "a\r\n  b")]
    )
    assert block == "host:h\nx-a:a b\nx-b:two words,again\n"
    assert signed == "host;x-a;x-b"


# --- the httpx flow end to end ---------------------------------------------------------------------


class Recorder:
    """A MockTransport handler that keeps every request it sees (body included)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(request.read())
        return httpx.Response(200)


async def _send(auth: SigV4Auth, request_args: dict[str, Any]) -> tuple[httpx.Request, bytes]:
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder), auth=auth) as client:
        response = await client.request(**request_args)
    assert response.status_code == 200
    return recorder.requests[0], recorder.bodies[0]


def _suite_auth(vector: dict[str, Any], **kwargs: Any) -> SigV4Auth:
    credentials = AwsCredentials(SUITE["access_key_id"], SUITE["secret_access_key"], vector["session_token"])
    return SigV4Auth(credentials, SUITE["region"], SUITE["service"], now=_fixed(SUITE["amz_date"]), **kwargs)


END_TO_END = [
    "get-vanilla",
    "get-vanilla-query-order-key-case",
    "get-vanilla-query-order-encoded",
    "get-vanilla-query-unreserved",
    "get-vanilla-utf8-query",
    "get-unreserved",
    "get-relative-relative-normalized",
    "get-slashes-normalized",
    "get-header-value-trim",
    "get-header-key-duplicate",
    "get-vanilla-with-session-token",
    "post-vanilla",
    "post-vanilla-query",
    "post-header-key-sort",
    "post-x-www-form-urlencoded",
    "post-sts-header-before",
]


@pytest.mark.parametrize("name", END_TO_END)
async def test_suite_vector_through_httpx(name: str) -> None:
    vector = SUITE_BY_NAME[name]
    extra = [n for n, _ in vector["headers"] if n.lower().startswith("my-")]
    headers = [(n, v) for n, v in vector["headers"] if n.lower() not in ("host", "x-amz-date")]
    query = f"?{vector['query']}" if vector["query"] else ""
    request, _ = await _send(
        _suite_auth(vector, extra_signed_headers=extra),
        {
            "method": vector["method"],
            "url": f"https://example.amazonaws.com{vector['path']}{query}",
            "headers": headers,
            "content": vector["body"].encode(),
        },
    )
    parts = _authorization_parts(request.headers["authorization"])
    assert parts["Credential"] == "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
    assert parts["SignedHeaders"] == vector["signed_headers"]
    assert parts["Signature"] == vector["signature"]
    assert request.headers["x-amz-date"] == SUITE["amz_date"]
    assert "x-amz-content-sha256" not in request.headers  # not S3: only signed when unsigned


async def test_session_token_is_sent_and_signed() -> None:
    vector = SUITE_BY_NAME["get-vanilla-with-session-token"]
    request, _ = await _send(_suite_auth(vector), {"method": "GET", "url": "https://example.amazonaws.com/"})
    assert request.headers["x-amz-security-token"] == vector["session_token"]
    assert "x-amz-security-token" in _authorization_parts(request.headers["authorization"])["SignedHeaders"]


def _s3_auth(**kwargs: Any) -> SigV4Auth:
    credentials = AwsCredentials(S3_DOCS["access_key_id"], S3_DOCS["secret_access_key"])
    return SigV4Auth(
        credentials, S3_DOCS["region"], "s3", s3_mode=True, now=_fixed(S3_DOCS["amz_date"]), **kwargs
    )


async def test_s3_get_object_example_through_httpx() -> None:
    vector = S3_BY_NAME["get-object"]
    request, _ = await _send(
        _s3_auth(extra_signed_headers=["Range"]),
        {"method": "GET", "url": f"https://{S3_DOCS['host']}/test.txt", "headers": {"Range": "bytes=0-9"}},
    )
    parts = _authorization_parts(request.headers["authorization"])
    assert parts["Credential"] == "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
    assert parts["SignedHeaders"] == vector["signed_headers"]
    assert parts["Signature"] == vector["signature"]
    assert request.headers["x-amz-content-sha256"] == EMPTY_SHA256


async def test_s3_put_object_example_through_httpx() -> None:
    vector = S3_BY_NAME["put-object"]
    request, body = await _send(
        _s3_auth(extra_signed_headers=["date"]),
        {
            "method": "PUT",
            "url": f"https://{S3_DOCS['host']}/test$file.text",
            "headers": {"Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"},
            "content": vector["body"].encode(),
        },
    )
    parts = _authorization_parts(request.headers["authorization"])
    assert parts["SignedHeaders"] == vector["signed_headers"]
    assert parts["Signature"] == vector["signature"]
    assert request.headers["x-amz-content-sha256"] == vector["payload_hash"]
    assert request.url.raw_path == b"/test%24file.text"  # sent exactly as signed
    assert body == vector["body"].encode()


async def test_s3_list_objects_example_with_params() -> None:
    vector = S3_BY_NAME["get-bucket-list-objects"]
    request, _ = await _send(
        _s3_auth(),
        {"method": "GET", "url": f"https://{S3_DOCS['host']}/", "params": {"prefix": "J", "max-keys": "2"}},
    )
    assert _authorization_parts(request.headers["authorization"])["Signature"] == vector["signature"]


async def test_streamed_body_is_unsigned_in_s3_mode_and_still_streamed() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    request, body = await _send(
        _s3_auth(), {"method": "PUT", "url": f"https://{S3_DOCS['host']}/big.bin", "content": chunks()}
    )
    assert request.headers["x-amz-content-sha256"] == UNSIGNED_PAYLOAD
    assert body == b"hello world"
    assert request.url.raw_path == b"/big.bin"


async def test_streamed_body_is_read_and_hashed_outside_s3() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"Param1="
        yield b"value1"

    vector = SUITE_BY_NAME["post-x-www-form-urlencoded"]
    request, body = await _send(
        _suite_auth(vector),
        {
            "method": "POST",
            "url": "https://example.amazonaws.com/",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "content": chunks(),
        },
    )
    assert body == b"Param1=value1"
    assert _authorization_parts(request.headers["authorization"])["Signature"] == vector["signature"]


async def test_unsigned_payload_option_outside_s3() -> None:
    vector = SUITE_BY_NAME["post-vanilla"]
    request, _ = await _send(
        _suite_auth(vector, unsigned_payload=True),
        {"method": "POST", "url": "https://example.amazonaws.com/", "content": b"x"},
    )
    assert request.headers["x-amz-content-sha256"] == UNSIGNED_PAYLOAD
    parts = _authorization_parts(request.headers["authorization"])
    assert parts["SignedHeaders"] == "host;x-amz-content-sha256;x-amz-date"


async def test_a_preset_payload_hash_is_used_as_is() -> None:
    preset = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    request, _ = await _send(
        _s3_auth(),
        {
            "method": "PUT",
            "url": f"https://{S3_DOCS['host']}/k",
            "headers": {"x-amz-content-sha256": preset},
            "content": b"data",
        },
    )
    assert request.headers["x-amz-content-sha256"] == preset


async def test_plus_in_params_is_sent_unambiguously() -> None:
    request, _ = await _send(
        _s3_auth(),
        {"method": "GET", "url": f"https://{S3_DOCS['host']}/", "params": {"prefix": "a b+c", "x": "~"}},
    )
    assert request.url.query == b"prefix=a%20b%2Bc&x=~"


async def test_httpx_paths_are_double_encoded_outside_s3() -> None:
    vector = SUITE_BY_NAME["get-vanilla"]
    request, _ = await _send(
        _suite_auth(vector), {"method": "GET", "url": "https://example.amazonaws.com/a b/"}
    )
    assert request.url.raw_path == b"/a%20b/"
    headers = [("host", "example.amazonaws.com"), ("x-amz-date", SUITE["amz_date"])]
    creq = canonical_request("GET", "/a%20b/", "", headers, EMPTY_SHA256)
    assert creq.split("\n")[1] == "/a%2520b/"
    scope = credential_scope("20150830", "us-east-1", "service")
    key = signing_key(SUITE["secret_access_key"], "20150830", "us-east-1", "service")
    expected = signature(key, string_to_sign(SUITE["amz_date"], scope, creq))
    assert _authorization_parts(request.headers["authorization"])["Signature"] == expected


async def test_bare_subresource_names_stay_bare_on_the_wire() -> None:
    vector = S3_BY_NAME["get-bucket-lifecycle"]
    request, _ = await _send(_s3_auth(), {"method": "GET", "url": f"https://{S3_DOCS['host']}/?lifecycle"})
    assert request.url.query == b"lifecycle"
    assert _authorization_parts(request.headers["authorization"])["Signature"] == vector["signature"]


async def test_unsigned_headers_are_left_alone() -> None:
    vector = SUITE_BY_NAME["get-vanilla"]
    request, _ = await _send(
        _suite_auth(vector),
        {
            "method": "GET",
            "url": "https://example.amazonaws.com/",
            "headers": {"User-Agent": "asynccloud/0", "X-Amzn-Trace-Id": "Root=1", "Accept": "*/*"},
        },
    )
    parts = _authorization_parts(request.headers["authorization"])
    assert parts["SignedHeaders"] == "host;x-amz-date"
    assert parts["Signature"] == vector["signature"]


async def test_each_send_is_signed_with_a_fresh_date() -> None:
    moments = iter([_moment("20150830T123600Z"), _moment("20150831T000001Z")])
    credentials = AwsCredentials("AKIDEXAMPLE", SUITE["secret_access_key"])
    auth = SigV4Auth(credentials, "us-east-1", "service", now=lambda: next(moments))
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder), auth=auth) as client:
        await client.get("https://example.amazonaws.com/")
        await client.get("https://example.amazonaws.com/")
    first, second = recorder.requests
    assert first.headers["x-amz-date"] == "20150830T123600Z"
    assert second.headers["x-amz-date"] == "20150831T000001Z"
    assert "/20150831/" in second.headers["authorization"]


def test_sync_client_flow_reads_sync_streams_outside_s3() -> None:
    vector = SUITE_BY_NAME["post-x-www-form-urlencoded"]
    recorder = Recorder()
    with httpx.Client(transport=httpx.MockTransport(recorder), auth=_suite_auth(vector)) as client:
        client.post(
            "https://example.amazonaws.com/",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            content=iter([b"Param1=", b"value1"]),
        )
    parts = _authorization_parts(recorder.requests[0].headers["authorization"])
    assert parts["Signature"] == vector["signature"]


def test_sign_refuses_an_unread_stream_outside_s3() -> None:
    auth = _suite_auth(SUITE_BY_NAME["post-vanilla"])
    request = httpx.Request("POST", "https://example.amazonaws.com/", content=iter([b"x"]))
    with pytest.raises(ConfigurationError, match="unread stream"):
        auth.sign(request)


def test_signing_key_is_derived_once_per_day(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = sigv4.signing_key

    def counting(secret: str, date: str, region: str, service: str) -> bytes:
        calls.append(date)
        return real(secret, date, region, service)

    monkeypatch.setattr(sigv4, "signing_key", counting)
    moments = iter([_moment(d) for d in ("20150830T000000Z", "20150830T235959Z", "20150831T000000Z")])
    auth = SigV4Auth(AwsCredentials("AKID", "secret"), "eu-west-1", "ec2", now=lambda: next(moments))
    for _ in range(3):
        auth.sign(httpx.Request("GET", "https://ec2.eu-west-1.amazonaws.com/"))
    assert calls == ["20150830", "20150831"]


def test_clock_must_be_timezone_aware_and_is_converted_to_utc() -> None:
    naive = SigV4Auth(AwsCredentials("AKID", "secret"), "r", "s", now=lambda: datetime(2020, 1, 1))
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        naive.sign(httpx.Request("GET", "https://h/"))
    plus2 = timezone(timedelta(hours=2))
    aware = SigV4Auth(
        AwsCredentials("AKID", "secret"), "r", "s", now=lambda: datetime(2020, 1, 1, 1, tzinfo=plus2)
    )
    request = httpx.Request("GET", "https://h/")
    aware.sign(request)
    assert request.headers["x-amz-date"] == "20191231T230000Z"


@pytest.mark.parametrize(
    ("credentials", "region", "service"),
    [
        (("AKID", "secret"), "us-east-1", "s3"),
        (AwsCredentials("AKID", "secret"), "", "s3"),
        (AwsCredentials("AKID", "secret"), "us-east-1", ""),
        (AwsCredentials("AKID", "secret"), "us/east", "s3"),
    ],
)
def test_bad_construction_is_a_configuration_error(credentials: Any, region: str, service: str) -> None:
    with pytest.raises(ConfigurationError):
        SigV4Auth(credentials, region, service)


def test_any_region_string_is_accepted() -> None:
    auth = SigV4Auth(AwsCredentials("AKID", "secret"), "moon-central-7", "s3", now=_fixed("20200101T000000Z"))
    request = httpx.Request("GET", "https://h/")
    auth.sign(request)
    assert "/20200101/moon-central-7/s3/aws4_request" in request.headers["authorization"]


# --- secret hygiene --------------------------------------------------------------------------------

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE-session-token"


def test_repr_and_str_hide_secret_and_token() -> None:
    credentials = AwsCredentials("AKIDEXAMPLE", SECRET, TOKEN)
    auth = SigV4Auth(credentials, "us-east-1", "s3", s3_mode=True)
    for text in (repr(credentials), str(credentials), repr(auth), str(auth), f"{auth!r}"):
        assert SECRET not in text
        assert TOKEN not in text
        assert "AKIDEXAMPLE" not in text  # only a prefix of the key id
    assert repr(credentials) == "AwsCredentials(access_key_id='AKID…', secret=***, session_token=***)"
    assert "AKID…" in repr(auth)


def test_credentials_and_auth_refuse_pickling() -> None:
    credentials = AwsCredentials("AKIDEXAMPLE", SECRET, TOKEN)
    auth = SigV4Auth(credentials, "us-east-1", "s3")
    for thing in (credentials, auth):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with pytest.raises(TypeError, match="cannot be pickled"):
                pickle.dumps(thing, protocol=protocol)
        assert copy.copy(thing) is thing
        assert copy.deepcopy(thing) is thing


# --- presigned URLs --------------------------------------------------------------------------------


def _s3_credentials(token: str | None = None) -> AwsCredentials:
    return AwsCredentials(S3_DOCS["access_key_id"], S3_DOCS["secret_access_key"], token)


def test_presign_matches_the_s3_documentation_example(monkeypatch: pytest.MonkeyPatch) -> None:
    case = S3_DOCS["presigned"]
    seen: list[str] = []
    real = sigv4.string_to_sign

    def spy(amz_date: str, scope: str, canonical: str) -> str:
        seen.append(real(amz_date, scope, canonical))
        return seen[-1]

    monkeypatch.setattr(sigv4, "string_to_sign", spy)
    url = presign_url(
        case["method"],
        case["url"],
        credentials=_s3_credentials(),
        region="us-east-1",
        service="s3",
        expires=case["expires"],
        now=_moment(S3_DOCS["amz_date"]),
    )
    assert url == case["url_signed"]
    assert seen == [case["string_to_sign"]]


@pytest.mark.parametrize("case", SUITE["presigned"]["vectors"], ids=lambda c: c["name"])
def test_presign_matches_the_suite_outside_s3(case: dict[str, Any]) -> None:
    url = presign_url(
        case["method"],
        case["url"],
        credentials=AwsCredentials(SUITE["access_key_id"], SUITE["secret_access_key"]),
        region=SUITE["region"],
        service=SUITE["service"],
        expires=case["expires"],
        headers=case["headers"],
        now=_moment(SUITE["amz_date"]),
        s3_mode=False,
    )
    assert url.endswith(f"&X-Amz-Signature={case['signature']}")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "post"])
def test_presign_any_method(method: str) -> None:
    url = presign_url(
        method,
        "https://examplebucket.s3.amazonaws.com/a key/é.txt?versionId=3",
        credentials=_s3_credentials(),
        region="us-east-1",
        service="s3",
        now=_moment(S3_DOCS["amz_date"]),
    )
    split = urlsplit(url)
    assert split.path == "/a%20key/%C3%A9.txt"
    query = parse_qs(split.query, keep_blank_values=True)
    assert query["versionId"] == ["3"]
    assert query["X-Amz-Expires"] == ["3600"]
    assert len(query["X-Amz-Signature"][0]) == 64
    others = {
        presign_url(
            m,
            "https://examplebucket.s3.amazonaws.com/a key/é.txt?versionId=3",
            credentials=_s3_credentials(),
            region="us-east-1",
            service="s3",
            now=_moment(S3_DOCS["amz_date"]),
        )
        for m in ("GET", "PUT", "DELETE", "HEAD")
    }
    assert len(others) == 4  # the method is part of the signature


def test_presign_with_session_token_and_signed_headers() -> None:
    url = presign_url(
        "PUT",
        "https://examplebucket.s3.amazonaws.com/up.png",
        credentials=_s3_credentials(TOKEN),
        region="us-east-1",
        service="s3",
        headers={"Content-Type": "image/png"},
        now=_moment(S3_DOCS["amz_date"]),
    )
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Security-Token"] == [TOKEN]
    assert query["X-Amz-SignedHeaders"] == ["content-type;host"]
    assert S3_DOCS["secret_access_key"] not in url


@pytest.mark.parametrize("expires", [0, -1, 604801, True, 1.5, "60"])
def test_presign_expires_must_be_in_range(expires: Any) -> None:
    with pytest.raises(ConfigurationError, match="expires"):
        presign_url(
            "GET",
            "https://b.s3.amazonaws.com/k",
            credentials=_s3_credentials(),
            region="us-east-1",
            service="s3",
            expires=expires,
        )


@pytest.mark.parametrize("expires", [1, 604800])
def test_presign_expires_bounds_are_accepted(expires: int) -> None:
    url = presign_url(
        "GET",
        "https://b.s3.amazonaws.com/k",
        credentials=_s3_credentials(),
        region="r",
        service="s3",
        expires=expires,
    )
    assert f"X-Amz-Expires={expires}&" in url


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/relative/path"),
        ("GET", "https://b.s3.amazonaws.com/k?X-Amz-Signature=abc"),
        ("", "https://b.s3.amazonaws.com/k"),
        ("G T", "https://b.s3.amazonaws.com/k"),
    ],
)
def test_presign_rejects_unusable_input(method: str, url: str) -> None:
    with pytest.raises(ConfigurationError):
        presign_url(method, url, credentials=_s3_credentials(), region="r", service="s3")


def test_presign_rejects_a_naive_time() -> None:
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        presign_url(
            "GET",
            "https://b.s3.amazonaws.com/k",
            credentials=_s3_credentials(),
            region="r",
            service="s3",
            now=datetime(2020, 1, 1),
        )
