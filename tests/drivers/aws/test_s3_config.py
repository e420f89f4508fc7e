"""Building S3 drivers: registry, credentials and region, endpoints, addressing, S3-compatible stores."""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from asynccloud import Capability, ConfigurationError, DriverType, Provider, get_driver
from asynccloud.drivers.aws import S3StorageDriver
from asynccloud.drivers.aws import s3_compatible as compat
from asynccloud.drivers.base import StorageDriver
from asynccloud.errors import InvalidNameError
from asynccloud.models import Container, Object
from tests.drivers.aws.conftest import KEY_ID, SECRET

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Keep the machine's AWS environment and files out of these tests."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_REGION", "AWS_DEFAULT_REGION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))


@pytest.fixture
def seen() -> Iterator[list[httpx.Request]]:
    """Every request sent, answered with an empty 200."""
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, headers={"Content-Length": "0"})

    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=record)
        yield requests


async def urls_of(driver: S3StorageDriver, bucket: str, key: str, seen: list[httpx.Request]) -> list[str]:
    """The URLs of a HEAD bucket and a HEAD object request."""
    seen.clear()
    async with driver:
        await driver.get_container(bucket)
        await driver.get_object(bucket, key)
    return [str(r.url) for r in seen]


# --- registry ------------------------------------------------------------------------------------------


def test_provider_s3_is_an_alias_of_aws() -> None:
    assert Provider.__members__["S3"] is Provider.AWS
    assert Provider.AWS.value == "aws"
    assert get_driver(DriverType.STORAGE, Provider.S3) is S3StorageDriver
    assert get_driver(DriverType.STORAGE, "aws") is S3StorageDriver


@pytest.mark.parametrize(
    ("provider", "cls"),
    [
        (Provider.DIGITALOCEAN_SPACES, compat.DigitalOceanSpacesStorageDriver),
        (Provider.WASABI, compat.WasabiStorageDriver),
        (Provider.BACKBLAZE_B2, compat.BackblazeB2StorageDriver),
        (Provider.SCALEWAY, compat.ScalewayStorageDriver),
        (Provider.OVH, compat.OvhStorageDriver),
        (Provider.CLOUDFLARE_R2, compat.CloudflareR2StorageDriver),
        (Provider.MINIO, compat.MinIOStorageDriver),
        (Provider.CEPH, compat.CephStorageDriver),
    ],
)
def test_s3_compatible_providers_are_registered(provider: Provider, cls: type[S3StorageDriver]) -> None:
    assert get_driver(DriverType.STORAGE, provider) is cls
    assert issubclass(cls, S3StorageDriver)
    assert cls.provider == provider.value


async def test_driver_satisfies_the_protocol_and_declares_its_capabilities() -> None:
    async with S3StorageDriver(KEY_ID, SECRET) as s3:
        assert isinstance(s3, StorageDriver)
        assert s3.supports(Capability.SIGNED_URLS)
        assert s3.supports(Capability.RANGE_DOWNLOADS)
        assert s3.supports(Capability.MULTIPART_UPLOADS)
        assert s3.supports(Capability.OBJECT_META_DATA)
        assert not s3.supports(Capability.CONTAINER_CDN)
        assert not s3.supports(Capability.OBJECT_CDN)


# --- credentials, region, secrets ----------------------------------------------------------------------


def test_missing_credentials_say_where_they_were_looked_for() -> None:
    with pytest.raises(ConfigurationError, match="No AWS credentials found") as info:
        S3StorageDriver()
    assert "environment variables" in str(info.value)


async def test_credentials_and_region_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, seen: list[httpx.Request]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    async with S3StorageDriver() as s3:
        assert s3.region == "ap-southeast-2"
        await s3.get_container("bucket")
    (request,) = seen
    assert request.url.host == "bucket.s3.ap-southeast-2.amazonaws.com"
    assert "Credential=AKIDFROMENV/" in request.headers["authorization"]
    assert "/ap-southeast-2/s3/aws4_request" in request.headers["authorization"]


def test_default_region_is_us_east_1_and_any_string_is_accepted() -> None:
    assert S3StorageDriver(KEY_ID, SECRET).region == "us-east-1"
    assert S3StorageDriver(KEY_ID, SECRET, region="xx-future-7").region == "xx-future-7"
    with pytest.raises(ConfigurationError, match="region"):
        S3StorageDriver(KEY_ID, SECRET, region="")


async def test_session_token_is_sent_and_never_shown(seen: list[httpx.Request]) -> None:
    async with S3StorageDriver(KEY_ID, SECRET, token="SESSION-TOKEN-VALUE") as s3:
        text = repr(s3)
        await s3.get_container("bucket")
    assert seen[0].headers["x-amz-security-token"] == "SESSION-TOKEN-VALUE"
    assert SECRET not in text
    assert "SESSION-TOKEN-VALUE" not in text
    assert KEY_ID not in text


def test_drivers_refuse_pickling() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(S3StorageDriver(KEY_ID, SECRET))


# --- endpoints and addressing ----------------------------------------------------------------------------


async def test_aws_uses_virtual_hosted_urls_on_the_regional_endpoint(seen: list[httpx.Request]) -> None:
    driver = S3StorageDriver(KEY_ID, SECRET, region="eu-west-1")
    assert driver.endpoint == "https://s3.eu-west-1.amazonaws.com/"
    assert await urls_of(driver, "my-bucket", "dir/a b+c?.txt", seen) == [
        "https://my-bucket.s3.eu-west-1.amazonaws.com/",
        "https://my-bucket.s3.eu-west-1.amazonaws.com/dir/a%20b%2Bc%3F.txt",
    ]


async def test_aws_china_regions_use_their_partition(seen: list[httpx.Request]) -> None:
    driver = S3StorageDriver(KEY_ID, SECRET, region="cn-north-1")
    assert driver.endpoint == "https://s3.cn-north-1.amazonaws.com.cn/"


@pytest.mark.parametrize("bucket", ["My_Bucket", "dotted.bucket.name", "ab"])
async def test_bucket_names_that_cannot_be_dns_labels_fall_back_to_path_style(
    bucket: str, seen: list[httpx.Request]
) -> None:
    urls = await urls_of(S3StorageDriver(KEY_ID, SECRET, region="eu-west-1"), bucket, "k", seen)
    assert urls == [
        f"https://s3.eu-west-1.amazonaws.com/{bucket}",
        f"https://s3.eu-west-1.amazonaws.com/{bucket}/k",
    ]


async def test_path_addressing_can_be_forced(seen: list[httpx.Request]) -> None:
    driver = S3StorageDriver(KEY_ID, SECRET, region="eu-west-1", addressing="path")
    assert await urls_of(driver, "b", "k", seen) == [
        "https://s3.eu-west-1.amazonaws.com/b",
        "https://s3.eu-west-1.amazonaws.com/b/k",
    ]


async def test_explicit_endpoint_means_path_style(seen: list[httpx.Request]) -> None:
    driver = S3StorageDriver(KEY_ID, SECRET, region="us-east-1", endpoint="http://127.0.0.1:9000")
    assert await urls_of(driver, "bucket", "ünï/κ", seen) == [
        "http://127.0.0.1:9000/bucket",
        "http://127.0.0.1:9000/bucket/%C3%BCn%C3%AF/%CE%BA",
    ]


async def test_explicit_endpoint_with_virtual_addressing_and_a_path_prefix(seen: list[httpx.Request]) -> None:
    driver = S3StorageDriver(
        KEY_ID, SECRET, endpoint="https://storage.example.test/s3/", addressing="virtual"
    )
    assert await urls_of(driver, "bucket", "k", seen) == [
        "https://bucket.storage.example.test/s3/",
        "https://bucket.storage.example.test/s3/k",
    ]
    driver = S3StorageDriver(KEY_ID, SECRET, endpoint="https://storage.example.test/s3")
    assert await urls_of(driver, "bucket", "k", seen) == [
        "https://storage.example.test/s3/bucket",
        "https://storage.example.test/s3/bucket/k",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"endpoint": "http://127.0.0.1:9000", "addressing": "virtual"},
            "virtual-hosted addressing needs a DNS",
        ),
        ({"addressing": "sideways"}, "addressing must be one of"),
        ({"endpoint": "ftp://host"}, "http:// or https://"),
        ({"endpoint": "https://user:pw@host"}, "must not carry"),
        ({"endpoint": "not a url"}, "endpoint"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"checksum": "md4"}, "checksum must be"),
        ({"max_concurrency": 0}, "max_concurrency"),
    ],
)
def test_invalid_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        S3StorageDriver(KEY_ID, SECRET, **options)


@pytest.mark.parametrize("key", ["", "a/../b", "./x", "x/.", "k" * 1025])
async def test_unusable_keys_are_refused_before_any_request(key: str, seen: list[httpx.Request]) -> None:
    async with S3StorageDriver(KEY_ID, SECRET) as s3:
        with pytest.raises(InvalidNameError):
            await s3.get_object("bucket", key)
        with pytest.raises(InvalidNameError):
            await s3.delete_object(s3.bind(Object(name=key or "x", size=0, container_name="a/b")))
    assert not seen


async def test_signature_covers_the_path_exactly_as_sent(seen: list[httpx.Request]) -> None:
    async with S3StorageDriver(KEY_ID, SECRET, endpoint="http://127.0.0.1:9000") as s3:
        await s3.get_object("bucket", "a b/(1)+$&=@.txt")
    (request,) = seen
    assert request.url.raw_path == b"/bucket/a%20b/%281%29%2B%24%26%3D%40.txt"
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date" in request.headers["authorization"]


# --- S3-compatible stores --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "options", "endpoint", "region"),
    [
        (compat.DigitalOceanSpacesStorageDriver, {}, "https://nyc3.digitaloceanspaces.com/", "nyc3"),
        (
            compat.DigitalOceanSpacesStorageDriver,
            {"region": "ams3"},
            "https://ams3.digitaloceanspaces.com/",
            "ams3",
        ),
        (
            compat.WasabiStorageDriver,
            {"region": "eu-central-1"},
            "https://s3.eu-central-1.wasabisys.com/",
            "eu-central-1",
        ),
        (
            compat.BackblazeB2StorageDriver,
            {"region": "us-west-004"},
            "https://s3.us-west-004.backblazeb2.com/",
            "us-west-004",
        ),
        (compat.ScalewayStorageDriver, {}, "https://s3.fr-par.scw.cloud/", "fr-par"),
        (compat.OvhStorageDriver, {}, "https://s3.gra.io.cloud.ovh.net/", "gra"),
        (
            compat.CloudflareR2StorageDriver,
            {"account_id": "0123abcd"},
            "https://0123abcd.r2.cloudflarestorage.com/",
            "auto",
        ),
        (
            compat.MinIOStorageDriver,
            {"endpoint": "http://10.0.0.5:9000"},
            "http://10.0.0.5:9000/",
            "us-east-1",
        ),
        (
            compat.CephStorageDriver,
            {"endpoint": "https://rgw.internal"},
            "https://rgw.internal/",
            "us-east-1",
        ),
    ],
)
async def test_s3_compatible_default_endpoints(
    cls: type[S3StorageDriver], options: dict[str, Any], endpoint: str, region: str, seen: list[httpx.Request]
) -> None:
    driver = cls(KEY_ID, SECRET, **options)
    assert driver.endpoint == endpoint
    assert driver.region == region
    urls = await urls_of(driver, "bucket", "k", seen)
    assert urls == [f"{endpoint}bucket", f"{endpoint}bucket/k"]  # path-style by default
    assert f"/{region}/s3/aws4_request" in seen[0].headers["authorization"]


def test_s3_compatible_stores_ignore_the_aws_region_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert compat.ScalewayStorageDriver(KEY_ID, SECRET).region == "fr-par"
    assert S3StorageDriver(KEY_ID, SECRET).region == "eu-west-3"


@pytest.mark.parametrize(
    ("cls", "options", "message"),
    [
        (compat.MinIOStorageDriver, {}, "needs endpoint"),
        (compat.CephStorageDriver, {}, "needs endpoint"),
        (compat.BackblazeB2StorageDriver, {}, "needs a region"),
        (compat.CloudflareR2StorageDriver, {}, "account_id"),
        (compat.CloudflareR2StorageDriver, {"account_id": "../evil"}, "account_id"),
    ],
)
def test_s3_compatible_stores_say_what_they_need(
    cls: type[S3StorageDriver], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        cls(KEY_ID, SECRET, **options)


async def test_location_constraint_is_sent_only_where_it_belongs(seen: list[httpx.Request]) -> None:
    async with S3StorageDriver(KEY_ID, SECRET, region="us-east-1") as s3:
        await s3.create_container("b1")
    async with S3StorageDriver(KEY_ID, SECRET, region="eu-west-1") as s3:
        created = await s3.create_container("b2")
    async with compat.DigitalOceanSpacesStorageDriver(KEY_ID, SECRET, region="ams3") as spaces:
        await spaces.create_container("b3")
    async with compat.MinIOStorageDriver(
        KEY_ID, SECRET, region="eu-1", endpoint="http://127.0.0.1:9"
    ) as minio:
        await minio.create_container("b4")
    bodies = [r.content.decode() for r in seen]
    assert bodies[0] == ""
    assert "<LocationConstraint>eu-west-1</LocationConstraint>" in bodies[1]
    assert 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' in bodies[1]
    assert bodies[2] == ""
    assert "<LocationConstraint>eu-1</LocationConstraint>" in bodies[3]
    assert created == Container(name="b2", extra={"region": "eu-west-1"})
