"""Models: typed data, JSON and pickle without the driver, one-line delegation to a bound driver."""

from __future__ import annotations

import copy
import inspect
import pickle
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from asynccloud import UnboundModelError
from asynccloud.drivers.base import BaseDriver, ComputeDriver, DNSDriver, LoadBalancerDriver, StorageDriver
from asynccloud.models import (
    CloudModel,
    Container,
    KeyPair,
    LoadBalancer,
    Member,
    Node,
    NodeState,
    Object,
    Record,
    RecordType,
    StorageVolume,
    VolumeSnapshot,
    Zone,
)

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-api-key-value"


class _SecretDriver(BaseDriver):
    """A driver holding a credential, recording which driver method a model called."""

    provider = "fake"

    def __init__(self) -> None:
        self.api_key = SECRET
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        async def record(*args: Any, **kwargs: Any) -> str:
            self.calls.append((name, args, kwargs))
            return name

        return record


def _samples() -> list[CloudModel]:
    return [
        Node(id="n1", name="web1", state=NodeState.RUNNING, public_ips=["203.0.113.5"]),
        KeyPair(name="k", public_key="ssh-ed25519 AAAA", private_key=SECRET),
        StorageVolume(id="v1", size=10),
        VolumeSnapshot(id="s1"),
        Container(name="photos"),
        Object(name="a/b.txt", size=3, hash="abc", container_name="photos", meta_data={"k": "v"}),
        Zone(id="z1", domain="example.com"),
        Record(id="r1", name="www", type=RecordType.A, data="192.0.2.1", zone_id="z1", ttl=300),
        LoadBalancer(id="lb1", name="lb", hostname="lb.example.com", port=80),
        Member(ip="10.0.0.1", port=80),
    ]


@pytest.mark.parametrize("model", _samples(), ids=lambda m: type(m).__name__)
def test_json_round_trip(model: CloudModel) -> None:
    model._bind(_SecretDriver())
    restored = type(model).model_validate_json(model.model_dump_json())
    if isinstance(model, KeyPair):  # the private key is never serialised
        assert isinstance(restored, KeyPair)
        assert restored.private_key is None
        assert restored.model_dump() == model.model_dump()
    else:
        assert restored == model
    assert SECRET not in model.model_dump_json()
    assert "driver" not in model.model_dump()


@pytest.mark.parametrize("model", _samples(), ids=lambda m: type(m).__name__)
def test_pickle_and_repr_carry_no_driver_or_secret(model: CloudModel) -> None:
    driver = _SecretDriver()
    model._bind(driver)
    blob = pickle.dumps(model)
    assert SECRET.encode() not in blob
    assert b"_SecretDriver" not in blob
    restored = pickle.loads(blob)
    assert not restored.is_bound
    assert model.is_bound  # pickling did not unbind the original
    assert SECRET not in repr(model)
    assert SECRET not in str(model)


def test_copies_share_the_driver_without_cloning_it() -> None:
    driver = _SecretDriver()
    node = Node(id="n1", name="a")._bind(driver)
    assert copy.copy(node)._driver is driver
    assert copy.deepcopy(node)._driver is driver
    assert node.model_copy()._driver is driver


async def test_unbound_model_raises_a_clear_error() -> None:
    node = Node(id="n1", name="web1")
    with pytest.raises(UnboundModelError, match=r"driver\.bind\(model\)"):
        await node.reboot()


async def test_bind_reattaches_a_driver() -> None:
    driver = _SecretDriver()
    node = pickle.loads(pickle.dumps(Node(id="n1", name="web1")._bind(driver)))
    assert driver.bind(node) is node
    await node.reboot()
    assert driver.calls == [("reboot_node", (node,), {})]


def test_typed_fields_validate() -> None:
    with pytest.raises(ValidationError):
        Object(name="x", size=-1, container_name="c")
    with pytest.raises(ValidationError):
        Record(id="r", name="", type="NOPE", data="x", zone_id="z")
    with pytest.raises(ValidationError):
        Node(id="n", name="x", unexpected=1)  # type: ignore[call-arg]
    assert Record(id="r", name="", type="MX", data="x", zone_id="z").type is RecordType.MX


def test_secret_key_material_is_masked() -> None:
    key = KeyPair(name="k", private_key=SECRET)
    assert SECRET not in repr(key)
    assert key.private_key is not None
    assert key.private_key.get_secret_value() == SECRET


# Each convenience method and the driver verb it must call, with the protocol that declares the verb.
DELEGATES: list[tuple[type[CloudModel], str, str, type[Any]]] = [
    (Node, "reboot", "reboot_node", ComputeDriver),
    (Node, "start", "start_node", ComputeDriver),
    (Node, "stop", "stop_node", ComputeDriver),
    (Node, "destroy", "destroy_node", ComputeDriver),
    (Node, "refresh", "get_node", ComputeDriver),
    (KeyPair, "delete", "delete_key_pair", ComputeDriver),
    (StorageVolume, "attach", "attach_volume", ComputeDriver),
    (StorageVolume, "detach", "detach_volume", ComputeDriver),
    (StorageVolume, "destroy", "destroy_volume", ComputeDriver),
    (StorageVolume, "snapshot", "create_volume_snapshot", ComputeDriver),
    (VolumeSnapshot, "destroy", "destroy_volume_snapshot", ComputeDriver),
    (Container, "iterate_objects", "iterate_container_objects", StorageDriver),
    (Container, "list_objects", "list_container_objects", StorageDriver),
    (Container, "get_object", "get_object", StorageDriver),
    (Container, "upload_object", "upload_object", StorageDriver),
    (Container, "upload_object_via_stream", "upload_object_via_stream", StorageDriver),
    (Container, "delete", "delete_container", StorageDriver),
    (Container, "enable_cdn", "enable_container_cdn", StorageDriver),
    (Container, "get_cdn_url", "get_container_cdn_url", StorageDriver),
    (Object, "as_stream", "download_object_as_stream", StorageDriver),
    (Object, "range_as_stream", "download_object_range_as_stream", StorageDriver),
    (Object, "download", "download_object", StorageDriver),
    (Object, "delete", "delete_object", StorageDriver),
    (Object, "enable_cdn", "enable_object_cdn", StorageDriver),
    (Object, "get_cdn_url", "get_object_cdn_url", StorageDriver),
    (Zone, "iterate_records", "iterate_records", DNSDriver),
    (Zone, "list_records", "list_records", DNSDriver),
    (Zone, "get_record", "get_record", DNSDriver),
    (Zone, "create_record", "create_record", DNSDriver),
    (Zone, "update", "update_zone", DNSDriver),
    (Zone, "delete", "delete_zone", DNSDriver),
    (Record, "update", "update_record", DNSDriver),
    (Record, "delete", "delete_record", DNSDriver),
    (LoadBalancer, "attach_member", "balancer_attach_member", LoadBalancerDriver),
    (LoadBalancer, "attach_compute_node", "balancer_attach_compute_node", LoadBalancerDriver),
    (LoadBalancer, "detach_member", "balancer_detach_member", LoadBalancerDriver),
    (LoadBalancer, "list_members", "list_members", LoadBalancerDriver),
    (LoadBalancer, "destroy", "destroy_balancer", LoadBalancerDriver),
]

ARGS: dict[str, tuple[Any, ...]] = {
    "attach": (Node(id="n", name="n"),),
    "get_object": ("o",),
    "upload_object": ("/tmp/f", "o"),
    "upload_object_via_stream": (b"x", "o"),
    "range_as_stream": (0, 1),
    "download": ("/tmp/x",),
    "get_record": ("r1",),
    "create_record": ("www", RecordType.A, "192.0.2.1"),
    "attach_member": (Member(ip="10.0.0.1", port=80),),
    "attach_compute_node": (Node(id="n", name="n"),),
    "detach_member": (Member(ip="10.0.0.1", port=80),),
}


def test_every_convenience_method_is_listed() -> None:
    listed = {(cls, meth) for cls, meth, _, _ in DELEGATES}
    for sample in _samples():
        cls = type(sample)
        own = {
            name
            for name, fn in vars(cls).items()
            if not name.startswith("_") and inspect.isfunction(fn) and not hasattr(BaseModel, name)
        }
        assert {(cls, name) for name in own} <= listed, f"{cls.__name__} has an unlisted convenience method"


@pytest.mark.parametrize(
    ("cls", "method", "verb", "protocol"), DELEGATES, ids=lambda v: getattr(v, "__name__", v)
)
async def test_convenience_method_delegates_to_its_driver_verb(
    cls: type[CloudModel], method: str, verb: str, protocol: type[Any]
) -> None:
    if verb != "list_members":  # LoadBalancer.list_members -> balancer_list_members
        assert hasattr(protocol, verb), f"{protocol.__name__} has no {verb}"
    else:
        verb = "balancer_list_members"
    model = next(m for m in _samples() if type(m) is cls)
    driver = _SecretDriver()
    model._bind(driver)
    result = getattr(model, method)(*ARGS.get(method, ()))
    await result  # the fake's verbs are all coroutines; a real iterate_* returns the driver's iterator as is
    assert [c[0] for c in driver.calls] == [verb]
    identity = {id(model), getattr(model, "id", None), getattr(model, "name", None)}
    assert any(id(a) in identity or (isinstance(a, str) and a in identity) for a in driver.calls[0][1])
