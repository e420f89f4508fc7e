"""Hetzner Cloud compute driver (``Provider.HETZNER``, compute), over the Hetzner Cloud API v1.

* ``HetznerNodeDriver(api_token)``; requests carry ``Authorization: Bearer <token>`` (never shown in reprs,
  logs or errors). ``endpoint=`` overrides ``https://api.hetzner.cloud/v1``.
* **Nodes** are servers: ``Node.id`` is the numeric id as a string, ``size_id`` the server type's name
  (``cx22``), ``image_id`` the image's numeric id, ``location_id`` the location's name (``fsn1``). Listings
  follow ``meta.pagination.next_page`` to the end.
* ``create_node(name, size, image, *, location=, key_pair=, user_data=, labels=)`` creates and starts the
  server. Hetzner has no idempotency token, but server names are unique per project: when the answer to a
  create is lost and the retry finds the name taken, the driver fetches the server by name and returns it
  (the one its first attempt created) instead of failing. Without a key pair Hetzner sets a root password
  and returns it once; it is not kept (credentials never sit in models): pass ``key_pair=``.
* ``reboot_node``, ``start_node`` (``poweron``), ``stop_node`` (``shutdown``, an ACPI request) and
  ``destroy_node`` start actions; with ``wait_actions=True`` each call waits for its action to succeed
  (:class:`~asynccloud.errors.OperationFailedError` with the action's error otherwise). ``wait_for_action``
  does it on demand.
* **Sizes** are server types (Hetzner prices in EUR: ``extra["price_hourly_eur"]``), **images** the
  available system images (``list_images(type="snapshot")`` for your snapshots), **locations** the
  locations, **key pairs** SSH keys (import only: Hetzner does not generate keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, Unpack

from asynccloud._capability import Capability
from asynccloud._json import json_object, objects, optional, require
from asynccloud._pagination import token_pages
from asynccloud._polling import poll_until
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.drivers._kinds import ComputeDriverBase
from asynccloud.drivers.hetzner._errors import HetznerErrorPolicy
from asynccloud.drivers.hetzner._parse import to_image, to_key_pair, to_location, to_node, to_size
from asynccloud.errors import (
    ConfigurationError,
    ConflictError,
    KeyPairNotFoundError,
    NodeNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from asynccloud.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize


__all__ = ["HetznerNodeDriver"]

DEFAULT_ENDPOINT: Final = "https://api.hetzner.cloud/v1"
#: Hetzner accepts at most 32 KiB of user data.
MAX_USER_DATA: Final = 32 * 1024


class HetznerNodeDriver(HttpDriverBase, ComputeDriverBase):
    """Hetzner Cloud servers.

    Args:
        key: The project's API token.
        secret: Unused; must be ``None``.
        endpoint: API base URL (default ``https://api.hetzner.cloud/v1``).
        page_size: Items per listing page (at most 50).
        wait_actions: Wait for each action (start, stop, reboot, delete) to finish before returning.
        action_timeout: Longest wait for an action, in seconds.
        action_interval: First pause between action polls (grows up to ten times as long).
        **options: HTTP options (``HttpOptions``).
    """

    provider: ClassVar[str] = "hetzner"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.NODE_START_STOP, Capability.NODE_REBOOT, Capability.KEY_PAIRS}
    )

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        endpoint: str | None = None,
        page_size: int = 50,
        wait_actions: bool = False,
        action_timeout: float = 600.0,
        action_interval: float = 1.0,
        **options: Unpack[HttpOptions],
    ) -> None:
        if not isinstance(key, str) or not key.strip():
            raise ConfigurationError("HetznerNodeDriver needs the project's API token as its first argument")
        if secret is not None:
            raise ConfigurationError("Hetzner Cloud uses one API token and no secret; pass only the token")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 50:
            raise ConfigurationError(f"page_size must be an int from 1 to 50, got {page_size!r}")
        for name, value in (("action_timeout", action_timeout), ("action_interval", action_interval)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
        if endpoint is not None and not (
            isinstance(endpoint, str) and endpoint.startswith(("http://", "https://"))
        ):
            raise ConfigurationError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.page_size = page_size
        self.wait_actions = bool(wait_actions)
        self.action_timeout = float(action_timeout)
        self.action_interval = float(action_interval)
        self._http = self._open_http(
            HttpOptions(**options),
            base_url=self.endpoint,
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
            error_policy=HetznerErrorPolicy(),
            secrets=[key],
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r})"

    # ----------------------------------------------------------------------------------------- plumbing

    def _pages(
        self, path: str, key: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of ``key`` over all pages of ``GET path`` (``meta.pagination.next_page``)."""

        async def fetch(page: int | None) -> tuple[list[dict[str, Any]], int | None]:
            query = {**(params or {}), "page": str(page or 1), "per_page": str(self.page_size)}
            data = json_object(await self._http.request("GET", path, params=query))
            meta = optional(data, "meta", dict) or {}
            pagination = optional(meta, "pagination", dict, "meta") or {}
            following = optional(pagination, "next_page", int, "meta.pagination")
            return objects(data, key), following

        return token_pages(fetch, first=1, provider=self.provider)

    async def _action(self, data: Mapping[str, Any]) -> None:
        action = optional(data, "action", dict)
        if action is not None and self.wait_actions:
            await self.wait_for_action(str(require(action, "id", int, "action")))

    async def wait_for_action(self, action_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        """Poll an action until it succeeds; ``OperationFailedError`` with its error if it fails."""

        async def fetch() -> dict[str, Any]:
            data = json_object(await self._http.request("GET", f"/actions/{action_id}"))
            return require(data, "action", dict)

        def failed(action: dict[str, Any]) -> str | None:
            if action.get("status") != "error":
                return None
            error = action.get("error")
            if not isinstance(error, dict):
                return "the action failed"
            return f"{error.get('code', 'error')}: {error.get('message', 'the action failed')}"

        return await poll_until(
            fetch,
            lambda action: action.get("status") == "success",
            timeout=self.action_timeout if timeout is None else timeout,
            interval=self.action_interval,
            max_interval=self.action_interval * 10,
            failed=failed,
            what=f"Hetzner action {action_id}",
        )

    # -------------------------------------------------------------------------------------------- nodes

    async def iterate_nodes(self) -> AsyncIterator[Node]:
        """Every server of the project."""
        async for item in self._pages("/servers", "servers"):
            yield self.bind(to_node(item))

    async def get_node(self, node_id: str) -> Node:
        """One server by id; ``NodeNotFoundError`` if there is none."""
        data = json_object(await self._http.request("GET", f"/servers/{_numeric(node_id, 'node id')}"))
        return self.bind(to_node(require(data, "server", dict)))

    async def create_node(
        self,
        name: str,
        size: NodeSize,
        image: NodeImage,
        *,
        location: NodeLocation | None = None,
        key_pair: KeyPair | str | None = None,
        user_data: str | bytes | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Node:
        """Create and start a server (usually ``PENDING`` at first); see the module notes on retries."""
        body: dict[str, Any] = {
            "name": name,
            "server_type": size.id,
            "image": image.id,
            "start_after_create": True,
        }
        if location is not None:
            body["location"] = location.id
        if key_pair is not None:
            body["ssh_keys"] = [key_pair if isinstance(key_pair, str) else key_pair.name]
        if user_data is not None:
            text = user_data.decode() if isinstance(user_data, bytes) else user_data
            if len(text.encode()) > MAX_USER_DATA:
                raise ConfigurationError(f"user_data is over {MAX_USER_DATA} bytes, Hetzner's limit")
            body["user_data"] = text
        if labels:
            body["labels"] = dict(labels)
        try:
            # Sent once more if the connection fails before an answer: a duplicate is refused by name.
            response = await self._http.request("POST", "/servers", json=body, idempotent=True)
        except ConflictError as error:
            if not error.earlier_attempt_may_have_acted:
                raise
            return await self._server_named(name, error)
        data = json_object(response)
        node = self.bind(to_node(require(data, "server", dict)))
        await self._action(data)
        return node

    async def _server_named(self, name: str, error: ConflictError) -> Node:
        async for item in self._pages("/servers", "servers", {"name": name}):
            return self.bind(to_node(item))
        raise error

    async def _server_action(self, node: Node, action: str) -> None:
        path = f"/servers/{_numeric(node.id, 'node id')}/actions/{action}"
        # Repeating a power action is harmless: the server ends in the same state.
        await self._action(json_object(await self._http.request("POST", path, idempotent=True)))

    async def reboot_node(self, node: Node) -> None:
        """Reboot a server (``reboot``: ACPI soft reboot)."""
        await self._server_action(node, "reboot")

    async def start_node(self, node: Node) -> None:
        """Power a stopped server on (``poweron``)."""
        await self._server_action(node, "poweron")

    async def stop_node(self, node: Node) -> None:
        """Ask a server to shut down (``shutdown``: ACPI, the OS powers off)."""
        await self._server_action(node, "shutdown")

    async def destroy_node(self, node: Node) -> None:
        """Delete a server; a retry that finds it gone (its first attempt deleted it) is success."""
        try:
            response = await self._http.request("DELETE", f"/servers/{_numeric(node.id, 'node id')}")
        except NodeNotFoundError as error:
            if not error.earlier_attempt_may_have_acted:
                raise
            return
        if response.content:
            await self._action(json_object(response))

    # ----------------------------------------------------------------------------------------- catalogue

    async def iterate_sizes(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeSize]:
        """Server types; ``location`` picks which location's price goes in ``extra``."""
        async for item in self._pages("/server_types", "server_types"):
            yield self.bind(to_size(item, location.id if location is not None else None))

    async def iterate_images(
        self, *, location: NodeLocation | None = None, type: str = "system"
    ) -> AsyncIterator[NodeImage]:
        """Available images of a ``type`` (``system``, ``snapshot``, ``backup``, ``app``)."""
        async for item in self._pages("/images", "images", {"type": type, "status": "available"}):
            yield self.bind(to_image(item))

    async def list_images(
        self, *, location: NodeLocation | None = None, type: str = "system"
    ) -> list[NodeImage]:
        """:meth:`iterate_images` as a list."""
        return [image async for image in self.iterate_images(location=location, type=type)]

    async def get_image(self, image_id: str) -> NodeImage:
        """One image by numeric id; ``ImageNotFoundError`` if there is none."""
        data = json_object(await self._http.request("GET", f"/images/{_numeric(image_id, 'image id')}"))
        return self.bind(to_image(require(data, "image", dict)))

    async def iterate_locations(self) -> AsyncIterator[NodeLocation]:
        """The locations (``fsn1``, ``nbg1``, ``hel1``, ``ash``, ...)."""
        async for item in self._pages("/locations", "locations"):
            yield self.bind(to_location(item))

    # ----------------------------------------------------------------------------------------- key pairs

    async def iterate_key_pairs(self) -> AsyncIterator[KeyPair]:
        """The project's SSH keys."""
        async for item in self._pages("/ssh_keys", "ssh_keys"):
            yield self.bind(to_key_pair(item))

    async def get_key_pair(self, name: str) -> KeyPair:
        """One SSH key by name; ``KeyPairNotFoundError`` if there is none."""
        async for item in self._pages("/ssh_keys", "ssh_keys", {"name": name}):
            return self.bind(to_key_pair(item))
        raise KeyPairNotFoundError(f"no SSH key named {name!r}", provider=self.provider, status=404)

    async def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Upload a public key; ``KeyPairAlreadyExistsError`` if the name or the key is taken."""
        response = await self._http.request(
            "POST", "/ssh_keys", json={"name": name, "public_key": key_material.strip()}
        )
        return self.bind(to_key_pair(require(json_object(response), "ssh_key", dict)))

    async def delete_key_pair(self, key_pair: KeyPair) -> None:
        """Delete an SSH key (by the id it was listed with, else looked up by name)."""
        key_id = key_pair.extra.get("id") or (await self.get_key_pair(key_pair.name)).extra["id"]
        await self._http.request("DELETE", f"/ssh_keys/{_numeric(str(key_id), 'key id')}")


def _numeric(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.isdigit():
        raise ConfigurationError(f"a Hetzner {what} is a number, got {value!r}")
    return value
