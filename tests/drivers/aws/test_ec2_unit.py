"""EC2 driver and the AWS Query helper against respx fakes shaped like the EC2 API reference responses."""

from __future__ import annotations

import base64
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from asynccloud import DriverType, Provider, get_driver
from asynccloud._retry import RetryPolicy
from asynccloud.drivers.aws._query import Members, encode_params, parse_error
from asynccloud.drivers.aws.ec2 import EC2NodeDriver
from asynccloud.errors import (
    ConfigurationError,
    ImageNotFoundError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    RateLimitedError,
    ServerError,
)
from asynccloud.models import KeyPair, NodeImage, NodeLocation, NodeSize, NodeState, VolumeState
from tests.drivers.aws.conftest import fixture_text

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio

ENDPOINT = "https://ec2.example.test"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.002)

Handler = Callable[[dict[str, str]], httpx.Response]


def ok(name: str, **values: str) -> httpx.Response:
    return httpx.Response(200, headers={"Content-Type": "text/xml"}, text=fixture_text(name, **values))


def ec2_error(status: int, code: str, message: str = "an error") -> httpx.Response:
    return httpx.Response(status, text=fixture_text("ec2_error.xml", code=code, message=message))


@dataclass
class FakeEC2:
    """Answers Query calls by ``Action``; ``script`` holds per-action lists of answers used in order."""

    script: dict[str, list[httpx.Response | Handler]] = field(default_factory=dict)
    calls: list[dict[str, str]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        self.calls.append(form)
        self.requests.append(request)
        answers = self.script.get(form["Action"])
        if not answers:
            return httpx.Response(400, text=fixture_text("ec2_error.xml", code="InvalidAction", message="?"))
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(form) if callable(answer) else answer

    def of(self, action: str) -> list[dict[str, str]]:
        return [c for c in self.calls if c["Action"] == action]


@pytest.fixture
def fake() -> Iterator[FakeEC2]:
    fake = FakeEC2()
    with respx.mock(assert_all_called=False) as router:
        router.post(url__startswith=ENDPOINT).mock(side_effect=fake)
        yield fake


def driver(**options: object) -> EC2NodeDriver:
    return EC2NodeDriver("AKIDEXAMPLE", SECRET, endpoint=ENDPOINT, region="us-east-1", retry=FAST, **options)  # type: ignore[arg-type]


SIZE = NodeSize(id="t2.micro", name="t2.micro", ram=1024)
IMAGE = NodeImage(id="ami-bff32ccc", name="img")


# --------------------------------------------------------------------------------------- query helper


def test_encode_params_flattens_lists_structs_and_tags() -> None:
    params = encode_params(
        {
            "InstanceId": ["i-1", "i-2"],
            "Filter": [{"Name": "tag:Name", "Value": ["web", "db"]}, {"Name": "x", "Value": ["1"]}],
            "TagSpecification": [{"ResourceType": "instance", "Tag": [{"Key": "Name", "Value": "web1"}]}],
            "DryRun": False,
            "Skipped": None,
            "Count": 3,
        }
    )
    assert params == {
        "InstanceId.1": "i-1",
        "InstanceId.2": "i-2",
        "Filter.1.Name": "tag:Name",
        "Filter.1.Value.1": "web",
        "Filter.1.Value.2": "db",
        "Filter.2.Name": "x",
        "Filter.2.Value.1": "1",
        "TagSpecification.1.ResourceType": "instance",
        "TagSpecification.1.Tag.1.Key": "Name",
        "TagSpecification.1.Tag.1.Value": "web1",
        "DryRun": "false",
        "Count": "3",
    }


def test_encode_params_member_style_for_elbv2() -> None:
    assert encode_params({"Subnets": Members(["s-1", "s-2"])}) == {
        "Subnets.member.1": "s-1",
        "Subnets.member.2": "s-2",
    }
    assert encode_params({"Targets": [{"Id": "i-1", "Port": 80}]}, list_suffix="member") == {
        "Targets.member.1.Id": "i-1",
        "Targets.member.1.Port": "80",
    }


def test_parse_error_reads_both_shapes() -> None:
    ec2 = parse_error(
        fixture_text("ec2_error.xml", code="InvalidInstanceID.NotFound", message="gone").encode()
    )
    assert ec2 is not None
    assert (ec2.code, ec2.message, ec2.request_id) == (
        "InvalidInstanceID.NotFound",
        "gone",
        "ea966190-f9aa-478e-9ede-example",
    )
    generic = parse_error(
        fixture_text("query_error_response.xml", code="Throttling", message="slow").encode()
    )
    assert generic is not None
    assert (generic.code, generic.message, generic.request_id) == ("Throttling", "slow", "c5b1bd77-example")
    assert parse_error(b"") is None
    assert parse_error(b"<html>oops</html>") is None
    assert parse_error(b"<!DOCTYPE x [<!ENTITY a 'b'>]><Response>&a;</Response>") is None


def test_registry_resolves_ec2() -> None:
    assert get_driver(DriverType.COMPUTE, Provider.AWS) is EC2NodeDriver


# ------------------------------------------------------------------------------------------- nodes


async def test_iterate_nodes_follows_next_token_and_maps_states(fake: FakeEC2) -> None:
    fake.script["DescribeInstances"] = [
        ok("ec2_describe_instances_page1.xml"),
        ok("ec2_describe_instances_page2.xml"),
    ]
    async with driver(page_size=5) as ec2:
        nodes = await ec2.list_nodes()
    calls = fake.of("DescribeInstances")
    assert len(calls) == 2
    assert calls[0]["MaxResults"] == "5"
    assert "NextToken" not in calls[0]
    assert calls[1]["NextToken"] == "page-2-token"
    assert calls[0]["Version"] == "2016-11-15"
    assert [n.state for n in nodes] == [
        NodeState.RUNNING,
        NodeState.PENDING,
        NodeState.STOPPING,
        NodeState.TERMINATED,
        NodeState.STOPPING,
        NodeState.STOPPED,
    ]
    web1 = nodes[0]
    assert web1.name == "web1"
    assert web1.id == "i-1234567890abcdef0"
    assert web1.public_ips == ["54.194.252.215"]
    assert web1.private_ips == ["192.168.1.88"]
    assert (web1.size_id, web1.image_id, web1.location_id) == ("t2.micro", "ami-bff32ccc", "eu-west-1c")
    assert web1.extra["key_name"] == "my_keypair"
    assert web1.extra["security_groups"] == [{"id": "sg-e4076980", "name": "SecurityGroup1"}]
    assert web1.created_at is not None
    assert web1.created_at.year == 2018
    assert nodes[1].name == "i-0598c7d356eba48d7"  # no Name tag: the id
    assert nodes[2].extra["state"] == "shutting-down"


async def test_requests_are_signed_for_ec2_form_encoded(fake: FakeEC2) -> None:
    fake.script["DescribeInstances"] = [ok("ec2_describe_instances_page2.xml")]
    async with driver() as ec2:
        await ec2.list_nodes()
    request = fake.requests[0]
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert "/us-east-1/ec2/aws4_request" in request.headers["authorization"]
    assert SECRET not in request.headers["authorization"]


async def test_get_node_not_found(fake: FakeEC2) -> None:
    fake.script["DescribeInstances"] = [
        ec2_error(400, "InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist")
    ]
    async with driver() as ec2:
        with pytest.raises(NodeNotFoundError) as info:
            await ec2.get_node("i-1")
    assert info.value.code == "InvalidInstanceID.NotFound"
    assert info.value.request_id == "ea966190-f9aa-478e-9ede-example"
    assert fake.of("DescribeInstances")[0]["InstanceId.1"] == "i-1"
    assert len(fake.calls) == 1  # a 400 is not retried


async def test_create_node_sends_tags_token_user_data_and_placement(fake: FakeEC2) -> None:
    fake.script["RunInstances"] = [lambda form: ok("ec2_run_instances.xml", token=form["ClientToken"])]
    async with driver() as ec2:
        node = await ec2.create_node(
            "web1",
            SIZE,
            IMAGE,
            location=NodeLocation(id="eu-west-1c", name="eu-west-1c"),
            key_pair=KeyPair(name="my_keypair"),
            user_data="#!/bin/sh\necho hi\n",
            security_groups=["sg-e4076980", "default"],
            subnet="subnet-56f5f633",
            tags={"role": "web"},
        )
    [form] = fake.of("RunInstances")
    assert form["ImageId"] == "ami-bff32ccc"
    assert form["InstanceType"] == "t2.micro"
    assert form["MinCount"] == form["MaxCount"] == "1"
    assert form["TagSpecification.1.ResourceType"] == "instance"
    tags = {
        form[f"TagSpecification.1.Tag.{i}.Key"]: form[f"TagSpecification.1.Tag.{i}.Value"] for i in (1, 2)
    }
    assert tags == {"Name": "web1", "role": "web"}
    assert base64.b64decode(form["UserData"]) == b"#!/bin/sh\necho hi\n"
    assert form["KeyName"] == "my_keypair"
    assert form["Placement.AvailabilityZone"] == "eu-west-1c"
    assert form["SecurityGroupId.1"] == "sg-e4076980"
    assert form["SecurityGroup.1"] == "default"
    assert form["SubnetId"] == "subnet-56f5f633"
    assert len(form["ClientToken"]) == 36
    assert node.state is NodeState.PENDING
    assert node.name == "web1"
    assert node.extra["client_token"] == form["ClientToken"]


async def test_create_node_retries_with_the_same_client_token(fake: FakeEC2) -> None:
    fake.script["RunInstances"] = [
        ec2_error(500, "InternalError", "try again"),
        ec2_error(503, "RequestLimitExceeded", "Request limit exceeded."),
        lambda form: ok("ec2_run_instances.xml", token=form["ClientToken"]),
    ]
    async with driver() as ec2:
        await ec2.create_node("web1", SIZE, IMAGE, key_pair="k")
        await ec2.create_node("web1", SIZE, IMAGE, key_pair="k")
    tokens = [c["ClientToken"] for c in fake.of("RunInstances")]
    assert len(tokens) == 4
    assert tokens[0] == tokens[1] == tokens[2]  # one call, three attempts, one token
    assert tokens[3] != tokens[0]  # a new call, a new token


async def test_non_idempotent_post_is_not_resent(fake: FakeEC2) -> None:
    fake.script["CreateKeyPair"] = [ec2_error(500, "InternalError", "boom")]
    async with driver() as ec2:
        with pytest.raises(ServerError):
            await ec2.create_key_pair("k")
    assert len(fake.of("CreateKeyPair")) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, fixture_text("ec2_error.xml", code="RequestLimitExceeded", message="Request limit exceeded.")),
        (400, fixture_text("query_error_response.xml", code="Throttling", message="Rate exceeded")),
    ],
)
async def test_throttling_is_retried(fake: FakeEC2, status: int, body: str) -> None:
    fake.script["DescribeInstances"] = [
        httpx.Response(status, text=body),
        ok("ec2_describe_instances_page2.xml"),
    ]
    async with driver() as ec2:
        nodes = await ec2.list_nodes()
    assert len(nodes) == 5
    assert len(fake.of("DescribeInstances")) == 2


async def test_throttling_gives_up_as_rate_limited(fake: FakeEC2) -> None:
    fake.script["DescribeInstances"] = [ec2_error(503, "RequestLimitExceeded", "slow down")]
    async with driver() as ec2:
        with pytest.raises(RateLimitedError):
            await ec2.list_nodes()
    assert len(fake.calls) == FAST.max_attempts


@pytest.mark.parametrize(
    ("action", "verb"), [("RebootInstances", "reboot_node"), ("StartInstances", "start_node"),
                         ("StopInstances", "stop_node"), ("TerminateInstances", "destroy_node")]
)  # fmt: skip
async def test_instance_actions(fake: FakeEC2, action: str, verb: str) -> None:
    fake.script[action] = [
        httpx.Response(200, text=f"<{action}Response><return>true</return></{action}Response>")
    ]
    fake.script["RunInstances"] = [lambda form: ok("ec2_run_instances.xml", token=form["ClientToken"])]
    async with driver() as ec2:
        node = await ec2.create_node("web1", SIZE, IMAGE)
        await getattr(ec2, verb)(node)
    assert fake.of(action)[0]["InstanceId.1"] == "i-1234567890abcdef0"


async def test_user_data_too_large_is_refused_before_sending(fake: FakeEC2) -> None:
    async with driver() as ec2:
        with pytest.raises(ConfigurationError):
            await ec2.create_node("web1", SIZE, IMAGE, user_data=b"x" * (16 * 1024 + 1))
    assert fake.calls == []


# ------------------------------------------------------------------------------ sizes, images, zones


async def test_list_sizes_parses_types_and_filters(fake: FakeEC2) -> None:
    fake.script["DescribeInstanceTypes"] = [ok("ec2_describe_instance_types.xml")]
    async with driver() as ec2:
        sizes = await ec2.list_sizes(instance_types=["t3.micro", "m5d.large"])
        await ec2.list_sizes()
    micro, m5d = sizes
    assert (micro.id, micro.vcpus, micro.ram, micro.disk, micro.price) == (
        "t3.micro",
        2.0,
        1024,
        None,
        0.0104,
    )
    assert (m5d.ram, m5d.disk, m5d.price) == (8192, 75, None)
    filtered, unfiltered = fake.of("DescribeInstanceTypes")
    assert filtered["InstanceType.1"] == "t3.micro"
    assert filtered["InstanceType.2"] == "m5d.large"
    assert "MaxResults" not in filtered
    assert unfiltered["MaxResults"] == "100"


async def test_list_images_defaults_to_own_images(fake: FakeEC2) -> None:
    fake.script["DescribeImages"] = [ok("ec2_describe_images.xml")]
    async with driver() as ec2:
        [image] = await ec2.list_images()
        await ec2.list_images(owner="amazon", name="al2023-ami-*")
        with pytest.raises(ConfigurationError):
            await ec2.list_images(owner=None)
    assert image.id == "ami-1234567890EXAMPLE"
    assert image.name == "my-image"
    assert image.extra["owner_id"] == "123456789012"
    assert image.extra["public"] is False
    own, amazon = fake.of("DescribeImages")
    assert own["Owner.1"] == "self"
    assert "Filter.1.Name" not in own
    assert amazon["Owner.1"] == "amazon"
    assert (amazon["Filter.1.Name"], amazon["Filter.1.Value.1"]) == ("name", "al2023-ami-*")


async def test_get_image_missing(fake: FakeEC2) -> None:
    fake.script["DescribeImages"] = [
        ok("ec2_describe_images_empty.xml"),
        ec2_error(400, "InvalidAMIID.Malformed", "Invalid id"),
    ]
    async with driver() as ec2:
        with pytest.raises(ImageNotFoundError):
            await ec2.get_image("ami-00000000")
        with pytest.raises(ImageNotFoundError):
            await ec2.get_image("bogus")


async def test_list_locations(fake: FakeEC2) -> None:
    fake.script["DescribeAvailabilityZones"] = [ok("ec2_describe_availability_zones.xml")]
    async with driver() as ec2:
        zones = await ec2.list_locations()
    assert [z.id for z in zones] == ["us-east-1a", "us-east-1b"]
    assert zones[0].extra == {"zone_id": "use1-az6", "region": "us-east-1", "state": "available"}


# --------------------------------------------------------------------------------------- key pairs


async def test_create_key_pair_keeps_private_key_secret(fake: FakeEC2) -> None:
    fake.script["CreateKeyPair"] = [ok("ec2_create_key_pair.xml")]
    async with driver() as ec2:
        pair = await ec2.create_key_pair("my-key-pair")
    assert pair.private_key is not None
    assert pair.private_key.get_secret_value().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert "secretsecret" not in repr(pair)
    assert "secretsecret" not in pair.model_dump_json()
    restored = pickle.loads(pickle.dumps(pair))
    assert restored.private_key is None
    assert restored.fingerprint == pair.fingerprint


async def test_key_pair_errors(fake: FakeEC2) -> None:
    fake.script["ImportKeyPair"] = [ec2_error(400, "InvalidKeyPair.Duplicate", "The keypair already exists")]
    fake.script["DescribeKeyPairs"] = [
        ec2_error(400, "InvalidKeyPair.NotFound", "The key pair does not exist")
    ]
    async with driver() as ec2:
        with pytest.raises(KeyPairAlreadyExistsError):
            await ec2.import_key_pair_from_string("k", "ssh-ed25519 AAAAC3Nza me@host")
        with pytest.raises(KeyPairNotFoundError):
            await ec2.get_key_pair("k")
    [form] = fake.of("ImportKeyPair")
    assert base64.b64decode(form["PublicKeyMaterial"]) == b"ssh-ed25519 AAAAC3Nza me@host"


async def test_errors_never_carry_the_secret(fake: FakeEC2) -> None:
    fake.script["DescribeInstances"] = [httpx.Response(400, text=f"<Response>{SECRET}</Response>")]
    async with driver() as ec2:
        assert SECRET not in repr(ec2)
        with pytest.raises(InvalidRequestError) as info:
            await ec2.list_nodes()
    assert SECRET not in str(info.value)


# ----------------------------------------------------------------------------------------- volumes


async def test_volumes_parse_and_detach_sends_attachment(fake: FakeEC2) -> None:
    fake.script["DescribeVolumes"] = [ok("ec2_describe_volumes.xml")]
    fake.script["DetachVolume"] = [httpx.Response(200, text="<DetachVolumeResponse/>")]
    async with driver() as ec2:
        [volume] = await ec2.list_volumes()
        await ec2.detach_volume(volume)
    assert (volume.id, volume.name, volume.size, volume.state) == (
        "vol-1234567890abcdef0",
        "data",
        80,
        VolumeState.INUSE,
    )
    assert volume.extra["instance_id"] == "i-1234567890abcdef0"
    assert volume.extra["device"] == "/dev/sdh"
    [form] = fake.of("DetachVolume")
    assert form["InstanceId"] == "i-1234567890abcdef0"
    assert form["Device"] == "/dev/sdh"
