"""The Hetzner Cloud compute driver against respx, with answers shaped like the Hetzner Cloud API reference
(``fixtures/``: a server, an action, locations, an SSH key; pages with ``meta.pagination``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from asynccloud import (
    AuthenticationError,
    Capability,
    ConfigurationError,
    ConflictError,
    DriverType,
    ImageNotFoundError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    NotSupportedError,
    OperationFailedError,
    Provider,
    QuotaExceededError,
    RateLimitedError,
    RetryPolicy,
    get_driver,
)
from asynccloud.drivers.base import ComputeDriver
from asynccloud.drivers.hetzner import HetznerNodeDriver
from asynccloud.models import KeyPair, NodeImage, NodeLocation, NodeSize, NodeState

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio

API = "https://api.hetzner.cloud/v1"
TOKEN = "hcloud-token-0123456789abcdef"
FIXTURES = Path(__file__).parent / "fixtures"
FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.002)
SIZE = NodeSize(id="cx22", name="cx22", ram=4096)
IMAGE = NodeImage(id="161547269", name="ubuntu-24.04")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def server(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(fixture("server.json"))
    data.update(changes)
    return data


def page(key: str, items: list[Any], number: int, last: int) -> dict[str, Any]:
    return {
        key: items,
        "meta": {
            "pagination": {
                "page": number,
                "per_page": len(items),
                "previous_page": number - 1 if number > 1 else None,
                "next_page": number + 1 if number < last else None,
                "last_page": last,
                "total_entries": len(items) * last,
            }
        },
    }


def error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "details": {}}})


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def driver(**options: Any) -> HetznerNodeDriver:
    return HetznerNodeDriver(TOKEN, retry=FAST, action_interval=0.001, **options)


def test_registered_as_a_compute_driver() -> None:
    cls = get_driver(DriverType.COMPUTE, Provider.HETZNER)
    assert cls is HetznerNodeDriver
    assert isinstance(driver(), ComputeDriver)
    assert driver().supports(Capability.NODE_START_STOP)
    assert not driver().supports(Capability.VOLUMES)


async def test_servers_follow_pages_and_map_onto_nodes(api: respx.MockRouter) -> None:
    first = [server(id=1, name="a"), server(id=2, name="b", status="off")]
    second = [server(id=3, name="c", status="initializing", public_net={"ipv4": None, "ipv6": None})]
    route = api.get("/servers").mock(
        side_effect=[
            httpx.Response(200, json=page("servers", first, 1, 2)),
            httpx.Response(200, json=page("servers", second, 2, 2)),
        ]
    )
    async with driver(page_size=2) as hc:
        nodes = [n async for n in hc.iterate_nodes()]
    assert [(n.id, n.name, n.state) for n in nodes] == [
        ("1", "a", NodeState.RUNNING),
        ("2", "b", NodeState.STOPPED),
        ("3", "c", NodeState.PENDING),
    ]
    a = nodes[0]
    assert (a.public_ips, a.private_ips) == (["203.0.113.10"], ["10.0.0.2"])
    assert (a.size_id, a.image_id, a.location_id) == ("cx22", "161547269", "fsn1")
    assert a.extra["ipv6_network"] == "2001:db8:1234::/64"
    assert a.extra["labels"] == {"team": "web"}
    assert nodes[2].public_ips == []
    assert [dict(call.request.url.params) for call in route.calls] == [
        {"page": "1", "per_page": "2"},
        {"page": "2", "per_page": "2"},
    ]
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_every_documented_status_is_mapped(api: respx.MockRouter) -> None:
    statuses = [
        "initializing",
        "starting",
        "running",
        "stopping",
        "off",
        "deleting",
        "migrating",
        "rebuilding",
    ]
    servers = [server(id=i, status=s) for i, s in enumerate(statuses, 1)]
    api.get("/servers").mock(return_value=httpx.Response(200, json=page("servers", servers, 1, 1)))
    async with driver() as hc:
        assert NodeState.UNKNOWN not in {n.state for n in await hc.list_nodes()}


async def test_get_node_and_not_found(api: respx.MockRouter) -> None:
    api.get("/servers/42").mock(return_value=httpx.Response(200, json={"server": server()}))
    api.get("/servers/7").mock(return_value=error(404, "not_found", "server with ID '7' not found"))
    async with driver() as hc:
        assert (await hc.get_node("42")).name == "web-1"
        with pytest.raises(NodeNotFoundError, match="not found"):
            await hc.get_node("7")
        with pytest.raises(ConfigurationError, match="number"):
            await hc.get_node("web-1")


async def test_create_node_sends_the_documented_body(api: respx.MockRouter) -> None:
    created = {
        "server": server(status="initializing"),
        "action": fixture("action.json"),
        "root_password": None,
    }
    route = api.post("/servers").mock(return_value=httpx.Response(201, json=created))
    async with driver() as hc:
        node = await hc.create_node(
            "web-1",
            SIZE,
            IMAGE,
            location=NodeLocation(id="fsn1", name="Falkenstein"),
            key_pair=KeyPair(name="laptop"),
            user_data="#cloud-config\n",
            labels={"team": "web"},
        )
    assert json.loads(route.calls.last.request.content) == {
        "name": "web-1",
        "server_type": "cx22",
        "image": "161547269",
        "start_after_create": True,
        "location": "fsn1",
        "ssh_keys": ["laptop"],
        "user_data": "#cloud-config\n",
        "labels": {"team": "web"},
    }
    assert (node.id, node.state) == ("42", NodeState.PENDING)


async def test_a_create_whose_answer_was_lost_returns_the_server_it_made(api: respx.MockRouter) -> None:
    api.post("/servers").mock(
        side_effect=[
            httpx.ReadError("connection reset"),  # the server was created; the answer is lost
            error(409, "uniqueness_error", "server name is already used"),
        ]
    )
    lookup = api.get("/servers").mock(
        return_value=httpx.Response(200, json=page("servers", [server(name="web-1")], 1, 1))
    )
    async with driver() as hc:
        node = await hc.create_node("web-1", SIZE, IMAGE)
    assert node.id == "42"
    assert lookup.calls.last.request.url.params["name"] == "web-1"


async def test_a_name_taken_from_the_start_is_an_error(api: respx.MockRouter) -> None:
    api.post("/servers").mock(return_value=error(409, "uniqueness_error", "server name is already used"))
    async with driver() as hc:
        with pytest.raises(ConflictError, match="already used") as info:
            await hc.create_node("web-1", SIZE, IMAGE)
    assert info.value.code == "uniqueness_error"


@pytest.mark.parametrize(
    ("verb", "action"), [("reboot_node", "reboot"), ("start_node", "poweron"), ("stop_node", "shutdown")]
)
async def test_power_actions(api: respx.MockRouter, verb: str, action: str) -> None:
    route = api.post(f"/servers/42/actions/{action}").mock(
        return_value=httpx.Response(201, json={"action": fixture("action.json")})
    )
    async with driver() as hc:
        await getattr(hc, verb)(hc.bind(await _node()))
    assert route.call_count == 1


async def _node() -> Any:
    from asynccloud.drivers.hetzner._parse import to_node

    return to_node(server())


async def test_waiting_for_an_action_to_succeed(api: respx.MockRouter) -> None:
    running, done = fixture("action.json"), {**fixture("action.json"), "status": "success", "progress": 100}
    api.post("/servers/42/actions/poweron").mock(return_value=httpx.Response(201, json={"action": running}))
    polls = api.get("/actions/13").mock(
        side_effect=[
            httpx.Response(200, json={"action": running}),
            httpx.Response(200, json={"action": done}),
        ]
    )
    async with driver(wait_actions=True) as hc:
        await hc.start_node(hc.bind(await _node()))
    assert polls.call_count == 2


async def test_a_failed_action_raises_with_its_error(api: respx.MockRouter) -> None:
    running = fixture("action.json")
    failed = {**running, "status": "error", "error": {"code": "action_failed", "message": "no power"}}
    api.post("/servers/42/actions/shutdown").mock(return_value=httpx.Response(201, json={"action": running}))
    api.get("/actions/13").mock(return_value=httpx.Response(200, json={"action": failed}))
    async with driver(wait_actions=True) as hc:
        with pytest.raises(OperationFailedError, match="no power"):
            await hc.stop_node(hc.bind(await _node()))
    async with driver() as hc:  # without wait_actions the call returns once the action is accepted
        await hc.stop_node(hc.bind(await _node()))


async def test_destroy_node_and_a_lost_answer(api: respx.MockRouter) -> None:
    api.delete("/servers/42").mock(
        side_effect=[httpx.ReadError("reset"), error(404, "not_found", "server with ID '42' not found")]
    )
    async with driver() as hc:
        await hc.destroy_node(hc.bind(await _node()))  # the first attempt deleted it


async def test_sizes_images_and_locations(api: respx.MockRouter) -> None:
    server_type = fixture("server.json")["server_type"]
    image = fixture("server.json")["image"]
    api.get("/server_types").mock(
        return_value=httpx.Response(200, json=page("server_types", [server_type], 1, 1))
    )
    images = api.get("/images").mock(return_value=httpx.Response(200, json=page("images", [image], 1, 1)))
    api.get("/images/161547269").mock(return_value=httpx.Response(200, json={"image": image}))
    api.get("/images/1").mock(return_value=error(404, "not_found", "image with ID '1' not found"))
    api.get("/locations").mock(return_value=httpx.Response(200, json=fixture("locations.json")))
    async with driver() as hc:
        (size,) = await hc.list_sizes()
        assert (size.id, size.ram, size.disk, size.vcpus, size.price) == ("cx22", 4096, 40, 2, None)
        assert size.extra["price_hourly_eur"] == pytest.approx(0.00714)
        (ubuntu,) = await hc.list_images()
        assert (ubuntu.id, ubuntu.name) == ("161547269", "ubuntu-24.04")
        assert images.calls.last.request.url.params["type"] == "system"
        await hc.list_images(type="snapshot")
        assert images.calls.last.request.url.params["type"] == "snapshot"
        assert (await hc.get_image("161547269")).extra["os_flavor"] == "ubuntu"
        with pytest.raises(ImageNotFoundError):
            await hc.get_image("1")
        locations = await hc.list_locations()
    assert [(loc.id, loc.country) for loc in locations] == [("fsn1", "DE"), ("nbg1", "DE"), ("ash", "US")]


async def test_ssh_keys(api: respx.MockRouter, tmp_path: Path) -> None:
    key = fixture("ssh_key.json")
    created = api.post("/ssh_keys").mock(
        side_effect=[
            httpx.Response(201, json={"ssh_key": key}),
            error(409, "uniqueness_error", "SSH key with the same fingerprint already exists"),
            httpx.Response(201, json={"ssh_key": key}),
        ]
    )
    api.get("/ssh_keys").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json=page("ssh_keys", [] if request.url.params.get("name") == "missing" else [key], 1, 1),
        )
    )
    deleted = api.delete("/ssh_keys/2323").mock(return_value=httpx.Response(204))
    async with driver() as hc:
        pair = await hc.import_key_pair_from_string("laptop", key["public_key"] + "\n")
        assert (pair.name, pair.fingerprint, pair.extra["id"]) == ("laptop", key["fingerprint"], "2323")
        assert json.loads(created.calls.last.request.content) == {
            "name": "laptop",
            "public_key": key["public_key"],
        }
        with pytest.raises(KeyPairAlreadyExistsError):
            await hc.import_key_pair_from_string("laptop", key["public_key"])
        path = tmp_path / "id.pub"
        path.write_text(key["public_key"] + "\n")
        assert (await hc.import_key_pair_from_file("laptop", path)).name == "laptop"
        assert [k.name for k in await hc.list_key_pairs()] == ["laptop"]
        assert (await hc.get_key_pair("laptop")).extra["id"] == "2323"
        with pytest.raises(KeyPairNotFoundError):
            await hc.get_key_pair("missing")
        await hc.delete_key_pair(KeyPair(name="laptop"))  # id looked up by name
        with pytest.raises(NotSupportedError):
            await hc.create_key_pair("new")
    assert deleted.call_count == 1


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (401, "unauthorized", AuthenticationError),
        (403, "resource_limit_exceeded", QuotaExceededError),
        (429, "rate_limit_exceeded", RateLimitedError),
    ],
)
async def test_error_codes(
    api: respx.MockRouter, status: int, code: str, error_class: type[Exception]
) -> None:
    route = api.get("/servers").mock(return_value=error(status, code, f"{code} happened"))
    async with driver() as hc:
        with pytest.raises(error_class) as info:
            await hc.list_nodes()
    assert info.value.code == code  # type: ignore[attr-defined]
    assert TOKEN not in str(info.value)
    assert route.call_count == (3 if error_class is RateLimitedError else 1)


def test_the_token_stays_private() -> None:
    assert TOKEN not in repr(driver())
    with pytest.raises(ConfigurationError, match="token"):
        HetznerNodeDriver()
    with pytest.raises(ConfigurationError, match="no secret"):
        HetznerNodeDriver(TOKEN, "secret")
    with pytest.raises(ConfigurationError, match="page_size"):
        HetznerNodeDriver(TOKEN, page_size=51)
