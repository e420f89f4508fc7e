"""OpenStack Nova compute (with Glance and Cinder) against fixtures shaped like the API references."""

from __future__ import annotations

import base64
import json
import logging
import pickle
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from asynccloud import (
    Capability,
    ConfigurationError,
    DriverType,
    NotSupportedError,
    Provider,
    get_driver,
)
from asynccloud.drivers.base import ComputeDriver
from asynccloud.drivers.openstack import OpenStackNodeDriver
from asynccloud.drivers.openstack._nova_parse import NODE_STATES, split_addresses, to_node, to_volume
from asynccloud.errors import (
    ImageNotFoundError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    OperationFailedError,
    OperationTimeoutError,
    VolumeNotFoundError,
)
from asynccloud.models import (
    KeyPair,
    Node,
    NodeImage,
    NodeLocation,
    NodeSize,
    NodeState,
    StorageVolume,
    VolumeState,
)
from tests.drivers.openstack._support import FAST_RETRY, KEYSTONE, PASSWORD, PROJECT, V3_TOKENS, load

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import respx

pytestmark = pytest.mark.anyio

NOVA = "https://nova.example.com:8774/v2.1"
GLANCE = "https://glance.example.com:9292/v2"
CINDER = f"https://cinder.example.com:8776/v3/{PROJECT}"
WEB1 = "9168b536-cd40-4630-b43f-b259807c6e87"
WEB2 = "52415800-8b69-11e0-9b19-734f6af67565"
NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
UBUNTU = "1bea47ed-f6a9-463b-b423-14b9cca9ad27"


@pytest.fixture
def catalog(mock: respx.MockRouter) -> respx.Route:
    """Keystone v3 with a catalog holding Nova, Glance and Cinder v3."""
    body = load("keystone_v3_token_compute.json")
    return mock.post(V3_TOKENS).respond(201, headers={"X-Subject-Token": "tok"}, json=body)


def make(**kwargs: Any) -> OpenStackNodeDriver:
    return OpenStackNodeDriver(
        "demo",
        PASSWORD,
        auth_url=KEYSTONE,
        project_name="demo",
        region="RegionOne",
        retry=FAST_RETRY,
        **kwargs,
    )


@pytest.fixture
async def nova(catalog: respx.Route) -> AsyncIterator[OpenStackNodeDriver]:
    async with make() as driver:
        yield driver


def fault(name: str, status: int) -> httpx.Response:
    return httpx.Response(status, json=load(name))


# ---------------------------------------------------------------------------------- registry, shape


async def test_registered_and_protocol(catalog: respx.Route) -> None:
    cls = get_driver(DriverType.COMPUTE, Provider.OPENSTACK)
    assert cls is OpenStackNodeDriver
    async with cls("demo", PASSWORD, auth_url=KEYSTONE, project_name="demo", region="RegionOne") as driver:
        assert isinstance(driver, ComputeDriver)
        assert all(driver.supports(c) for c in Capability if c.value.startswith(("node_", "key_", "vol")))
        assert PASSWORD not in repr(driver)


def test_invalid_options() -> None:
    with pytest.raises(ConfigurationError, match="image_service"):
        make(image_service="swift")
    with pytest.raises(ConfigurationError, match="microversion"):
        make(microversion="two")
    with pytest.raises(ConfigurationError, match="page_size"):
        make(page_size=0)


# ---------------------------------------------------------------------------------------------- nodes


async def test_list_nodes_follows_servers_links_to_the_end(
    mock: respx.MockRouter, nova: OpenStackNodeDriver
) -> None:
    page2 = mock.get(f"{NOVA}/servers/detail", params={"marker": WEB2}).respond(
        200, json=load("nova_servers_page2.json")
    )
    page1 = mock.get(f"{NOVA}/servers/detail").respond(200, json=load("nova_servers_page1.json"))
    nodes = await nova.list_nodes()
    assert [n.name for n in nodes] == ["web1", "web2", "db1"]
    assert page1.call_count == page2.call_count == 1
    # The link named an internal http host: only its query is followed, on the catalog's endpoint.
    assert page2.calls.last.request.url == httpx.URL(f"{NOVA}/servers/detail?limit=2&marker={WEB2}")
    web1, web2, db1 = nodes
    assert (web1.state, web2.state, db1.state) == (NodeState.RUNNING, NodeState.PENDING, NodeState.STOPPED)
    assert web1.public_ips == ["203.0.113.10"]  # floating
    assert web1.private_ips == ["192.168.0.3"]
    assert web2.public_ips == ["93.184.216.7", "2a00:1450:4001:81c::7"]  # fixed but globally routable
    assert web2.private_ips == ["10.0.0.12", "fd00:1234::12"]
    assert (web1.size_id, web1.image_id, web1.location_id) == (
        "1",
        "70a599e0-31e7-49b7-b260-868f441e862b",
        "nova",
    )
    assert db1.image_id is None  # booted from a volume
    assert web1.created_at is not None
    assert web1.created_at.year == 2026
    assert web1.extra["key_name"] == "my_key"
    assert web1.extra["metadata"] == {"role": "web"}
    assert web2.extra["task_state"] == "spawning"
    assert page1.calls.last.request.headers["x-auth-token"] == "tok"


async def test_page_size_is_sent_as_limit(mock: respx.MockRouter, catalog: respx.Route) -> None:
    route = mock.get(f"{NOVA}/servers/detail").respond(200, json={"servers": []})
    async with make(page_size=50) as driver:
        assert await driver.list_nodes() == []
    assert route.calls.last.request.url.params["limit"] == "50"


async def test_get_node_and_not_found(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.get(f"{NOVA}/servers/{WEB1}").respond(200, json=load("nova_server.json"))
    mock.get(f"{NOVA}/servers/missing").mock(return_value=fault("nova_item_not_found.json", 404))
    node = await nova.get_node(WEB1)
    assert node.name == "web1"
    assert node.state is NodeState.RUNNING
    with pytest.raises(NodeNotFoundError, match="Instance could not be found") as info:
        await nova.get_node("missing")
    assert info.value.code == "itemNotFound"
    assert info.value.status == 404


@pytest.mark.parametrize(
    ("status", "task", "expected"),
    [
        ("ACTIVE", None, NodeState.RUNNING),
        ("BUILD", "spawning", NodeState.PENDING),
        ("REBUILD", None, NodeState.PENDING),
        ("SUSPENDED", None, NodeState.SUSPENDED),
        ("PAUSED", None, NodeState.PAUSED),
        ("RESIZE", None, NodeState.RECONFIGURING),
        ("VERIFY_RESIZE", None, NodeState.RUNNING),
        ("REVERT_RESIZE", None, NodeState.RECONFIGURING),
        ("SHUTOFF", None, NodeState.STOPPED),
        ("RESCUE", None, NodeState.RECONFIGURING),
        ("ERROR", None, NodeState.ERROR),
        ("DELETED", None, NodeState.TERMINATED),
        ("SOFT_DELETED", None, NodeState.TERMINATED),
        ("HARD_REBOOT", None, NodeState.REBOOTING),
        ("REBOOT", None, NodeState.REBOOTING),
        ("MIGRATING", None, NodeState.MIGRATING),
        ("SHELVED", None, NodeState.STOPPED),
        ("SHELVED_OFFLOADED", None, NodeState.STOPPED),
        ("UNKNOWN", None, NodeState.UNKNOWN),
        ("SOMETHING_NEW", None, NodeState.UNKNOWN),
        ("ACTIVE", "powering-off", NodeState.STOPPING),
        ("SHUTOFF", "powering-on", NodeState.STARTING),
    ],
)
def test_state_mapping(status: str, task: str | None, expected: NodeState) -> None:
    node = to_node({"id": "x", "name": "x", "status": status, "OS-EXT-STS:task_state": task})
    assert node.state is expected


def test_every_documented_status_is_mapped() -> None:
    documented = {"ACTIVE", "BUILD", "DELETED", "ERROR", "HARD_REBOOT", "MIGRATING", "PASSWORD", "PAUSED",
                  "REBOOT", "REBUILD", "RESCUE", "RESIZE", "REVERT_RESIZE", "SHELVED", "SHELVED_OFFLOADED",
                  "SHUTOFF", "SOFT_DELETED", "SUSPENDED", "UNKNOWN", "VERIFY_RESIZE"}  # fmt: skip
    assert documented <= set(NODE_STATES)


def test_ip_split_without_types_uses_the_address_ranges() -> None:
    public, private = split_addresses(
        {
            "addresses": {
                "public": [{"addr": "166.78.10.91", "version": 4}, {"addr": "2001:4801::1", "version": 6}],
                "private": [{"addr": "10.180.16.30", "version": 4}, {"addr": "100.64.0.5", "version": 4}],
            },
            "accessIPv4": "166.78.10.91",
            "accessIPv6": "2a00:1450::9",
        }
    )
    assert public == ["166.78.10.91", "2001:4801::1", "2a00:1450::9"]
    assert private == ["10.180.16.30", "100.64.0.5"]


async def test_create_node_request_body(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    route = mock.post(f"{NOVA}/servers").respond(202, json=load("nova_server_create.json"))
    size = NodeSize(id="2", name="m1.small", ram=2048)
    image = NodeImage(id="1bea47ed-f6a9-463b-b423-14b9cca9ad27", name="Ubuntu 24.04")
    node = await nova.create_node(
        "web3",
        size,
        image,
        location=NodeLocation(id="nova", name="nova"),
        key_pair=KeyPair(name="my_key"),
        user_data="#cloud-config\npackages: [nginx]\n",
        ex_networks=[
            "3cb9bc59-5699-4588-a4b1-b87f96708bc6",
            {"port": "ce531f90-199f-48c0-816c-13e38010b442"},
        ],
        ex_metadata={"role": "web"},
        ex_security_groups=["web"],
        ex_config_drive=True,
    )
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "server": {
            "name": "web3",
            "flavorRef": "2",
            "imageRef": "1bea47ed-f6a9-463b-b423-14b9cca9ad27",
            "availability_zone": "nova",
            "key_name": "my_key",
            "user_data": base64.b64encode(b"#cloud-config\npackages: [nginx]\n").decode(),
            "networks": [
                {"uuid": NET},
                {"port": "ce531f90-199f-48c0-816c-13e38010b442"},
            ],
            "metadata": {"role": "web"},
            "security_groups": [{"name": "web"}],
            "config_drive": True,
        }
    }
    assert node.id == "f5dc173b-6804-445a-a6d8-c705dad5b5eb"
    assert (node.name, node.state, node.size_id, node.location_id) == ("web3", NodeState.PENDING, "2", "nova")
    # Nova's generated admin password is not kept anywhere on the node.
    assert "6NpUwoz2QDRN" not in repr(node)
    assert "6NpUwoz2QDRN" not in pickle.dumps(node).decode("latin-1")


async def test_create_node_minimal_and_user_data_limit(
    mock: respx.MockRouter, nova: OpenStackNodeDriver
) -> None:
    route = mock.post(f"{NOVA}/servers").respond(202, json=load("nova_server_create.json"))
    size, image = NodeSize(id="1", name="t", ram=512), NodeImage(id="img")
    await nova.create_node("n", size, image, key_pair="k", ex_networks="auto")
    assert json.loads(route.calls.last.request.content) == {
        "server": {"name": "n", "flavorRef": "1", "imageRef": "img", "key_name": "k", "networks": "auto"}
    }
    with pytest.raises(ConfigurationError, match="65535"):
        await nova.create_node("n", size, image, user_data=b"x" * 60_000)
    assert route.call_count == 1


async def test_actions(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    action = mock.post(f"{NOVA}/servers/{WEB1}/action").respond(202)
    delete = mock.delete(f"{NOVA}/servers/{WEB1}").respond(204)
    node = nova.bind(Node(id=WEB1, name="web1"))
    await node.reboot()
    await nova.reboot_node(node, ex_type="HARD")
    await node.stop()
    await node.start()
    await node.destroy()
    bodies = [json.loads(call.request.content) for call in action.calls]
    assert bodies == [
        {"reboot": {"type": "SOFT"}},
        {"reboot": {"type": "HARD"}},
        {"os-stop": None},
        {"os-start": None},
    ]
    assert delete.call_count == 1
    with pytest.raises(ConfigurationError):
        await nova.reboot_node(node, ex_type="COLD")  # type: ignore[arg-type]


async def test_action_on_a_missing_server(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.post(f"{NOVA}/servers/gone/action").mock(return_value=fault("nova_item_not_found.json", 404))
    mock.delete(f"{NOVA}/servers/gone").mock(return_value=fault("nova_item_not_found.json", 404))
    gone = Node(id="gone", name="gone")
    with pytest.raises(NodeNotFoundError):
        await nova.stop_node(gone)
    with pytest.raises(NodeNotFoundError):
        await nova.destroy_node(gone)


async def test_microversion_header_only_on_nova(mock: respx.MockRouter, catalog: respx.Route) -> None:
    servers = mock.get(f"{NOVA}/servers/detail").respond(200, json={"servers": []})
    images = mock.get(f"{GLANCE}/images").respond(200, json={"images": []})
    async with make(microversion="2.79") as driver:
        await driver.list_nodes()
        await driver.list_images()
    headers = servers.calls.last.request.headers
    assert headers["openstack-api-version"] == "compute 2.79"
    assert headers["x-openstack-nova-api-version"] == "2.79"
    assert "openstack-api-version" not in images.calls.last.request.headers
    async with make() as driver:
        await driver.list_nodes()
    assert "openstack-api-version" not in servers.calls.last.request.headers


# ------------------------------------------------------------------------------ wait_until_running


def _servers(status: str, *, addresses: dict[str, Any] | None = None) -> httpx.Response:
    server = load("nova_server.json")["server"]
    server["status"] = status
    if addresses is not None:
        server["addresses"] = addresses
    return httpx.Response(200, json={"servers": [server]})


async def test_wait_until_running_build_to_active(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    route = mock.get(f"{NOVA}/servers/detail").mock(
        side_effect=[_servers("BUILD", addresses={}), _servers("BUILD"), _servers("ACTIVE")]
    )
    [(node, ips)] = await nova.wait_until_running([Node(id=WEB1, name="web1")], wait_period=0.001, timeout=5)
    assert node.state is NodeState.RUNNING
    assert ips == ["203.0.113.10"]
    assert route.call_count == 3


async def test_wait_until_running_error(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.get(f"{NOVA}/servers/detail").mock(side_effect=[_servers("BUILD"), _servers("ERROR")])
    with pytest.raises(OperationFailedError, match="web1"):
        await nova.wait_until_running([Node(id=WEB1, name="web1")], wait_period=0.001, timeout=5)


async def test_wait_until_running_timeout(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.get(f"{NOVA}/servers/detail").mock(side_effect=lambda request: _servers("BUILD"))
    with pytest.raises(OperationTimeoutError):
        await nova.wait_until_running([Node(id=WEB1, name="web1")], wait_period=0.001, timeout=0.05)


# --------------------------------------------------------------------------- sizes, images, zones


async def test_sizes_follow_flavors_links(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    page2 = mock.get(f"{NOVA}/flavors/detail", params={"marker": "2"}).respond(
        200, json=load("nova_flavors_page2.json")
    )
    mock.get(f"{NOVA}/flavors/detail").respond(200, json=load("nova_flavors_page1.json"))
    sizes = await nova.list_sizes()
    assert [(s.id, s.ram, s.disk, s.vcpus) for s in sizes] == [
        ("1", 512, 1, 1.0),
        ("2", 2048, 20, 1.0),
        ("3", 4096, 40, 2.0),
    ]
    assert page2.call_count == 1
    assert sizes[2].extra["swap"] == 1024
    assert sizes[0].extra["is_public"] is True


async def test_images_follow_glance_next(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    page2 = mock.get(f"{GLANCE}/images", params={"marker": "1bea47ed-f6a9-463b-b423-14b9cca9ad27"}).respond(
        200, json=load("glance_images_page2.json")
    )
    mock.get(f"{GLANCE}/images").respond(200, json=load("glance_images_page1.json"))
    images = await nova.list_images()
    assert [i.name for i in images] == ["cirros-0.6.2", "Ubuntu 24.04", "Debian 12"]
    assert page2.calls.last.request.url == httpx.URL(
        f"{GLANCE}/images?limit=2&marker=1bea47ed-f6a9-463b-b423-14b9cca9ad27"
    )
    assert images[1].extra["os_distro"] == "ubuntu"
    assert images[2].extra["visibility"] == "private"


async def test_get_image_and_not_found(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.get(f"{GLANCE}/images/1bea47ed-f6a9-463b-b423-14b9cca9ad27").respond(
        200, json=load("glance_image.json")
    )
    mock.get(f"{GLANCE}/images/nope").respond(
        404, text="404 Not Found\n\nNo image found with ID nope\n\n", headers={"Content-Type": "text/plain"}
    )
    image = await nova.get_image("1bea47ed-f6a9-463b-b423-14b9cca9ad27")
    assert image.name == "Ubuntu 24.04"
    assert image.extra["min_disk"] == 10
    with pytest.raises(ImageNotFoundError, match="No image found"):
        await nova.get_image("nope")


async def test_images_from_the_compute_proxy(mock: respx.MockRouter, catalog: respx.Route) -> None:
    body = load("nova_server.json")  # any body without "images" ends the listing
    route = mock.get(f"{NOVA}/images/detail").respond(
        200, json={"images": [{"id": "i1", "name": "x"}], **body}
    )
    async with make(image_service="compute") as driver:
        assert [i.id for i in await driver.list_images()] == ["i1"]
    assert route.call_count == 1


async def test_locations_are_availability_zones(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.get(f"{NOVA}/os-availability-zone").respond(200, json=load("nova_availability_zones.json"))
    zones = await nova.list_locations()
    assert [(z.id, z.extra["available"]) for z in zones] == [("nova", True), ("az-2", False)]


# -------------------------------------------------------------------------------------- key pairs


async def test_key_pairs(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.get(f"{NOVA}/os-keypairs").respond(200, json=load("nova_keypairs.json"))
    mock.get(f"{NOVA}/os-keypairs/my_key").respond(200, json=load("nova_keypair.json"))
    delete = mock.delete(f"{NOVA}/os-keypairs/my_key").respond(202)
    [listed] = await nova.list_key_pairs()
    assert listed.name == "my_key"
    assert listed.fingerprint
    assert listed.public_key
    assert listed.public_key.startswith("ssh-ed25519 ")
    fetched = await nova.get_key_pair("my_key")
    assert fetched.extra["type"] == "ssh"
    assert fetched.private_key is None
    await fetched.delete()
    assert delete.call_count == 1


async def test_create_key_pair_returns_the_private_key_as_secret(
    mock: respx.MockRouter, nova: OpenStackNodeDriver, caplog: pytest.LogCaptureFixture
) -> None:
    route = mock.post(f"{NOVA}/os-keypairs").respond(200, json=load("nova_keypair_create.json"))
    caplog.set_level(logging.DEBUG)
    key = await nova.create_key_pair("generated")
    assert json.loads(route.calls.last.request.content) == {"keypair": {"name": "generated"}}
    assert key.private_key is not None
    secret = key.private_key.get_secret_value()
    assert secret.startswith("-----BEGIN RSA PRIVATE KEY-----")
    for text in (repr(key), str(key.model_dump()), key.model_dump_json(), caplog.text):
        assert "fixture-private-key-material" not in text
    assert pickle.loads(pickle.dumps(key)).private_key is None


async def test_import_key_pair(mock: respx.MockRouter, nova: OpenStackNodeDriver, tmp_path: Any) -> None:
    route = mock.post(f"{NOVA}/os-keypairs").respond(200, json=load("nova_keypair.json"))
    public = load("nova_keypair.json")["keypair"]["public_key"]
    path = tmp_path / "id_ed25519.pub"
    path.write_text(public + "\n")
    key = await nova.import_key_pair_from_file("my_key", path)
    assert json.loads(route.calls.last.request.content) == {
        "keypair": {"name": "my_key", "public_key": public}
    }
    assert key.name == "my_key"


async def test_key_pair_errors(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.post(f"{NOVA}/os-keypairs").mock(return_value=fault("nova_keypair_conflict.json", 409))
    mock.get(f"{NOVA}/os-keypairs/missing").mock(return_value=fault("nova_keypair_not_found.json", 404))
    mock.delete(f"{NOVA}/os-keypairs/missing").mock(return_value=fault("nova_keypair_not_found.json", 404))
    with pytest.raises(KeyPairAlreadyExistsError, match="already exists"):
        await nova.import_key_pair_from_string("my_key", "ssh-ed25519 AAAA")
    with pytest.raises(KeyPairNotFoundError):
        await nova.get_key_pair("missing")
    with pytest.raises(KeyPairNotFoundError):
        await nova.delete_key_pair(KeyPair(name="missing"))


async def test_no_key_generation_from_microversion_2_92(catalog: respx.Route) -> None:
    async with make(microversion="2.92") as driver:
        assert not driver.supports(Capability.KEY_PAIR_CREATE)
        assert driver.supports(Capability.KEY_PAIRS)
        with pytest.raises(NotSupportedError):
            await driver.create_key_pair("k")
    async with make(microversion="2.91") as driver:
        assert driver.supports(Capability.KEY_PAIR_CREATE)


# ---------------------------------------------------------------------------------------- volumes


async def test_volumes(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    vol_id = "6edbc2f4-1507-44f8-ac0d-eed1d2608d38"
    page2 = mock.get(f"{CINDER}/volumes/detail", params={"marker": vol_id}).respond(
        200, json=load("cinder_volumes_page2.json")
    )
    mock.get(f"{CINDER}/volumes/detail").respond(200, json=load("cinder_volumes_page1.json"))
    volumes = await nova.list_volumes()
    assert [(v.name, v.size, v.state) for v in volumes] == [
        ("data", 10, VolumeState.INUSE),
        ("scratch", 1, VolumeState.AVAILABLE),
    ]
    assert page2.call_count == 1
    assert volumes[0].location_id == "nova"

    create = mock.post(f"{CINDER}/volumes").respond(202, json=load("cinder_volume_create.json"))
    new = await nova.create_volume(
        20, "new", location=NodeLocation(id="nova", name="nova"), ex_volume_type="ssd"
    )
    assert json.loads(create.calls.last.request.content) == {
        "volume": {"size": 20, "name": "new", "availability_zone": "nova", "volume_type": "ssd"}
    }
    assert new.state is VolumeState.CREATING

    attach = mock.post(f"{NOVA}/servers/{WEB1}/os-volume_attachments").respond(200, json={})
    await new.attach(Node(id=WEB1, name="web1"), device="/dev/vdb")
    assert json.loads(attach.calls.last.request.content) == {
        "volumeAttachment": {"volumeId": new.id, "device": "/dev/vdb"}
    }

    detach = mock.delete(f"{NOVA}/servers/{WEB1}/os-volume_attachments/{vol_id}").respond(202)
    await volumes[0].detach()
    assert detach.call_count == 1
    mock.get(f"{CINDER}/volumes/{volumes[1].id}").respond(
        200, json={"volume": load("cinder_volumes_page2.json")["volumes"][0]}
    )
    with pytest.raises(ConfigurationError, match="not attached"):
        await volumes[1].detach()

    destroy = mock.delete(f"{CINDER}/volumes/{new.id}").respond(202)
    await new.destroy()
    assert destroy.call_count == 1


async def test_volume_snapshots(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    volume = nova.bind(load_volume())
    listing = mock.get(f"{CINDER}/snapshots/detail").respond(200, json=load("cinder_snapshots.json"))
    [snap] = await nova.list_volume_snapshots(volume)
    assert listing.calls.last.request.url.params["volume_id"] == volume.id
    assert (snap.name, snap.state, snap.volume_id) == ("nightly", VolumeState.AVAILABLE, volume.id)
    create = mock.post(f"{CINDER}/snapshots").respond(202, json=load("cinder_snapshot_create.json"))
    made = await volume.snapshot("manual")
    assert json.loads(create.calls.last.request.content) == {
        "snapshot": {"volume_id": volume.id, "name": "manual", "force": False}
    }
    assert made.state is VolumeState.CREATING
    delete = mock.delete(f"{CINDER}/snapshots/{made.id}").respond(202)
    await made.destroy()
    assert delete.call_count == 1


def load_volume() -> StorageVolume:
    return to_volume(load("cinder_volume.json")["volume"])


async def test_volume_not_found(mock: respx.MockRouter, nova: OpenStackNodeDriver) -> None:
    mock.get(f"{CINDER}/volumes/nope").respond(
        404, json={"itemNotFound": {"code": 404, "message": "Volume nope could not be found."}}
    )
    with pytest.raises(VolumeNotFoundError, match="could not be found"):
        await nova.ex_get_volume("nope")


async def test_volumes_without_cinder_in_the_catalog(mock: respx.MockRouter) -> None:
    mock.post(V3_TOKENS).respond(201, headers={"X-Subject-Token": "tok"}, json=load("keystone_v3_token.json"))
    async with make(volume_service_type="volume") as driver:
        with pytest.raises(NotSupportedError, match="no 'volume'"):
            await driver.list_volumes()
    async with make(volume_service_type=None) as driver:
        assert not driver.supports(Capability.VOLUMES)
        with pytest.raises(NotSupportedError):
            await driver.list_volumes()
