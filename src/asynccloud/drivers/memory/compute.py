"""In-memory compute driver (``Provider.MEMORY``): nodes are records held by the driver; nothing runs.

For tests, demos and dry runs of code written against the portable compute API (``provision``, scripts
that create and destroy fleets). It behaves like a remote provider in the ways that matter to such code:
every call takes ``latency`` seconds and yields to the event loop, a call's effect happens halfway
through (so a call cancelled while "on the wire" may or may not have taken effect, as over a network),
new nodes stay ``PENDING`` for ``boot_time`` seconds, and a ``fault`` hook injects failures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import anyio

from asynccloud._capability import Capability
from asynccloud.drivers._kinds import ComputeDriverBase
from asynccloud.errors import (
    ConfigurationError,
    ImageNotFoundError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
)
from asynccloud.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState

__all__ = ["MemoryComputeDriver"]

PROVIDER = "memory"
T = TypeVar("T")

#: A fault hook: called as ``fault(operation, name)`` when a call is about to take effect; whatever it
#: raises is what the call raises. Operations: ``"create_node"``, ``"destroy_node"``, ``"reboot_node"``,
#: ``"start_node"``, ``"stop_node"``, and ``"boot"`` (raising makes the new node end in ``ERROR``).
FaultHook = Callable[[str, str], None]

_SIZES = (
    NodeSize(id="small", name="small", ram=1024, disk=10, vcpus=1, price=0.01),
    NodeSize(id="medium", name="medium", ram=4096, disk=40, vcpus=2, price=0.04),
    NodeSize(id="large", name="large", ram=16384, disk=160, vcpus=4, price=0.16),
)
_IMAGES = (
    NodeImage(id="debian-12", name="Debian 12"),
    NodeImage(id="ubuntu-24.04", name="Ubuntu 24.04 LTS"),
)
_LOCATION = NodeLocation(id="memory-1", name="In memory", country="ZZ")
# Documentation address ranges (RFC 5737): never anybody's real host.
_PUBLIC_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))


@dataclass
class _Record:
    node: Node
    booted_at: float
    boot_failed: bool = False
    stopped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class MemoryComputeDriver(ComputeDriverBase):
    """Compute "provider" living in this object.

    Args:
        key: A label for the account, shown nowhere secret (the portable constructor's first argument).
        secret: Unused; accepted for the portable constructor signature.
        region: Reported as the driver's region.
        latency: Seconds every call takes; the call takes effect halfway through.
        boot_time: Seconds a new node stays ``PENDING`` before it is ``RUNNING``.
        address: The public address every node gets (``"127.0.0.1"`` to deploy to a local SSH
            server); by default each node gets its own address from the RFC 5737 documentation ranges.
        fault: Injects failures; see :data:`FaultHook`.
    """

    provider: ClassVar[str] = PROVIDER
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.NODE_REBOOT, Capability.NODE_START_STOP, Capability.KEY_PAIRS}
    )

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        region: str | None = None,
        latency: float = 0.0,
        boot_time: float = 0.0,
        address: str | None = None,
        fault: FaultHook | None = None,
    ) -> None:
        for name, value in (("latency", latency), ("boot_time", boot_time)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ConfigurationError(f"{name} must be a non-negative number of seconds, got {value!r}")
        self.account = key or "memory"
        self.region = region
        self.latency = float(latency)
        self.boot_time = float(boot_time)
        self._address = address
        self._fault = fault
        self._nodes: dict[str, _Record] = {}
        self._key_pairs: dict[str, KeyPair] = {}
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"<MemoryComputeDriver account={self.account!r} nodes={len(self._nodes)}>"

    # --- the simulated wire --------------------------------------------------------------------------

    async def _call(self, operation: str | None, name: str, act: Callable[[], T]) -> T:
        await anyio.sleep(self.latency / 2)
        if operation is not None and self._fault is not None:
            self._fault(operation, name)
        result = act()
        await anyio.sleep(self.latency / 2)
        return result

    def _view(self, record: _Record) -> Node:
        if record.stopped:
            state = NodeState.STOPPED
        elif anyio.current_time() < record.booted_at:
            state = NodeState.PENDING
        else:
            state = NodeState.ERROR if record.boot_failed else NodeState.RUNNING
        node = record.node.model_copy(update={"state": state, "extra": dict(record.extra)}, deep=True)
        return self.bind(node)

    def _record(self, node_id: str) -> _Record:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise NodeNotFoundError(f"no node with id {node_id!r}", provider=PROVIDER, status=404) from None

    def _public_ip(self, number: int) -> str:
        if self._address is not None:
            return self._address
        net = _PUBLIC_NETS[(number - 1) // 254 % len(_PUBLIC_NETS)]
        return str(net.network_address + 1 + (number - 1) % 254)

    # --- nodes --------------------------------------------------------------------------------------

    async def iterate_nodes(self) -> AsyncIterator[Node]:
        """Every node, in creation order."""
        records = await self._call(None, "", lambda: list(self._nodes.values()))
        for record in records:
            yield self._view(record)

    async def get_node(self, node_id: str) -> Node:
        """One node by id."""
        return self._view(await self._call(None, node_id, lambda: self._record(node_id)))

    async def create_node(
        self,
        name: str,
        size: NodeSize,
        image: NodeImage,
        *,
        location: NodeLocation | None = None,
        key_pair: KeyPair | str | None = None,
        user_data: str | bytes | None = None,
    ) -> Node:
        """Create a node; it is ``PENDING`` for ``boot_time`` seconds, then ``RUNNING``."""
        if image.id not in {i.id for i in _IMAGES}:
            raise ImageNotFoundError(f"no image {image.id!r}", provider=PROVIDER, status=404)

        def act() -> _Record:
            number = next(self._ids)
            node = Node(
                id=f"mem-{number:06d}",
                name=name,
                state=NodeState.PENDING,
                public_ips=[self._public_ip(number)],
                private_ips=[f"10.0.{number // 250 % 250}.{number % 250 + 2}"],
                size_id=size.id,
                image_id=image.id,
                location_id=(location or _LOCATION).id,
                created_at=datetime.now(UTC),
            )
            extra: dict[str, Any] = {}
            if key_pair is not None:
                extra["key_pair"] = key_pair if isinstance(key_pair, str) else key_pair.name
            if user_data is not None:
                extra["user_data_size"] = len(user_data)  # the content may hold secrets: not kept
            boot_failed = False
            if self._fault is not None:
                try:
                    self._fault("boot", name)
                except Exception:
                    boot_failed = True
            record = _Record(node, anyio.current_time() + self.boot_time, boot_failed, extra=extra)
            self._nodes[node.id] = record
            return record

        return self._view(await self._call("create_node", name, act))

    async def destroy_node(self, node: Node) -> None:
        """Remove a node; ``NodeNotFoundError`` when it does not exist."""
        await self._call("destroy_node", node.name, lambda: self._nodes.pop(self._record(node.id).node.id))

    async def reboot_node(self, node: Node) -> None:
        """Reboot: the node is ``PENDING`` for ``boot_time`` seconds again."""

        def act() -> None:
            record = self._record(node.id)
            record.stopped = False
            record.booted_at = anyio.current_time() + self.boot_time

        await self._call("reboot_node", node.name, act)

    async def start_node(self, node: Node) -> None:
        """Start a stopped node."""
        await self._call("start_node", node.name, lambda: self._set_stopped(node, False))

    async def stop_node(self, node: Node) -> None:
        """Stop a node."""
        await self._call("stop_node", node.name, lambda: self._set_stopped(node, True))

    def _set_stopped(self, node: Node, stopped: bool) -> None:
        record = self._record(node.id)
        if record.stopped and not stopped:
            record.booted_at = anyio.current_time() + self.boot_time
        record.stopped = stopped

    # --- what nodes are made of ---------------------------------------------------------------------

    async def iterate_sizes(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeSize]:
        """The three sizes: small, medium, large."""
        for size in await self._call(None, "", lambda: _SIZES):
            yield self.bind(size.model_copy())

    async def iterate_images(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeImage]:
        """The images: ``debian-12`` and ``ubuntu-24.04``."""
        for image in await self._call(None, "", lambda: _IMAGES):
            yield self.bind(image.model_copy())

    async def get_image(self, image_id: str) -> NodeImage:
        """One image by id."""
        for image in await self.list_images():
            if image.id == image_id:
                return image
        raise ImageNotFoundError(f"no image {image_id!r}", provider=PROVIDER, status=404)

    async def iterate_locations(self) -> AsyncIterator[NodeLocation]:
        """The one location, ``memory-1``."""
        yield self.bind(await self._call(None, "", lambda: _LOCATION.model_copy()))

    # --- key pairs ----------------------------------------------------------------------------------

    async def iterate_key_pairs(self) -> AsyncIterator[KeyPair]:
        """The imported key pairs."""
        for pair in await self._call(None, "", lambda: list(self._key_pairs.values())):
            yield self.bind(pair.model_copy())

    async def get_key_pair(self, name: str) -> KeyPair:
        """One key pair by name."""
        return self.bind((await self._call(None, name, lambda: self._key_pair(name))).model_copy())

    async def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Register a public key under ``name``."""

        def act() -> KeyPair:
            if name in self._key_pairs:
                raise KeyPairAlreadyExistsError(f"key pair {name!r} exists", provider=PROVIDER, status=409)
            pair = KeyPair(
                name=name, public_key=key_material.strip(), fingerprint=_openssh_fingerprint(key_material)
            )
            self._key_pairs[name] = pair
            return pair

        return self.bind((await self._call(None, name, act)).model_copy())

    async def delete_key_pair(self, key_pair: KeyPair) -> None:
        """Delete a key pair."""
        await self._call(None, key_pair.name, lambda: self._key_pairs.pop(self._key_pair(key_pair.name).name))

    def _key_pair(self, name: str) -> KeyPair:
        try:
            return self._key_pairs[name]
        except KeyError:
            raise KeyPairNotFoundError(f"no key pair {name!r}", provider=PROVIDER, status=404) from None


def _openssh_fingerprint(key_material: str) -> str:
    """The ``SHA256:...`` fingerprint ``ssh-keygen -l`` prints for an OpenSSH public key line.

    Raises:
        InvalidRequestError: The text is not ``<type> <base64 key blob> [comment]`` with a blob of that type,
            which a real provider refuses too.
    """
    fields = key_material.split()
    problem = None
    if len(fields) < 2:
        problem = "expected '<type> <base64 key> [comment]'"
    else:
        try:
            blob = base64.b64decode(fields[1], validate=True)
        except (binascii.Error, ValueError):
            problem = "the key is not base64"
        else:
            size = int.from_bytes(blob[:4], "big")
            if len(blob) < 4 + size or blob[4 : 4 + size] != fields[0].encode():
                problem = f"the key data is not an SSH {fields[0]!r} key"
    if problem is not None:
        raise InvalidRequestError(f"not an OpenSSH public key: {problem}", provider=PROVIDER, status=400)
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"
