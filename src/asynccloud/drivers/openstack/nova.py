"""OpenStack Nova compute (``Provider.OPENSTACK``), with Glance images and Cinder volumes.

* Nodes: ``GET /servers/detail`` following ``servers_links`` to the end; create with flavor, image, key pair,
  user data (base64), networks, metadata and availability zone; reboot (``SOFT``/``HARD``), start
  (``os-start``), stop (``os-stop``), destroy. Nova's statuses map onto :class:`~asynccloud.models.NodeState`
  (see :data:`~asynccloud.drivers.openstack._nova_parse.NODE_STATES`); addresses split into public (floating,
  or globally routable) and private IPs.
* Sizes: flavors (``/flavors/detail``, paged); ``ram`` MiB, ``disk`` GB, ``vcpus``.
* Images: Glance v2 (``/v2/images`` following ``next``) by default, or Nova's ``/images`` proxy
  (``image_service="compute"``, what Rackspace serves).
* Locations: availability zones (``/os-availability-zone``).
* Key pairs: list, get, create (the private key comes back once, as a ``SecretStr``), import, delete.
* Volumes: Cinder v3 when the catalog has it (see :mod:`._cinder`).

Usage::

    Compute = get_driver(DriverType.COMPUTE, Provider.OPENSTACK)
    async with Compute("demo", "s3cret", auth_url="https://keystone:5000/v3", project_name="demo",
                       region="RegionOne") as nova:
        size = next(s for s in await nova.list_sizes() if s.ram >= 2048)
        image = next(i for i in await nova.list_images() if i.name == "Ubuntu 24.04")
        node = await nova.create_node("web1", size, image, key_pair="my_key")
        [(node, ips)] = await nova.wait_until_running([node])
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Unpack
from urllib.parse import quote

import httpx

from asynccloud._capability import Capability
from asynccloud._json import identifier, json_object, objects, optional, require
from asynccloud._pagination import link_pages, next_link
from asynccloud.drivers.openstack import _glance
from asynccloud.drivers.openstack._cinder import CinderVolumes
from asynccloud.drivers.openstack._common import OpenStackDriverBase, OpenStackOptions
from asynccloud.drivers.openstack._nova_errors import NovaErrorPolicy
from asynccloud.drivers.openstack._nova_parse import (
    relink,
    to_key_pair,
    to_location,
    to_node,
    to_size,
)
from asynccloud.errors import ConfigurationError, NotSupportedError
from asynccloud.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from asynccloud._pagination import Paginator

__all__ = ["OpenStackNodeDriver"]

#: Nova's limit on ``user_data`` (base64-encoded).
MAX_USER_DATA = 65535
_MICROVERSION = re.compile(r"^(\d+)\.(\d+)$")
#: From this microversion on, Nova no longer generates key pairs (``public_key`` is required).
_NO_KEYGEN = (2, 92)


def _q(value: str) -> str:
    return quote(value, safe="")


class OpenStackNodeDriver(CinderVolumes, OpenStackDriverBase):
    """OpenStack Nova.

    Args:
        key: User name, or application credential id.
        secret: Password, or application credential secret.
        microversion: Nova API microversion to request (``"2.1"``, ``"2.79"``, ``"latest"``), sent as
            ``OpenStack-API-Version: compute X.Y`` and ``X-OpenStack-Nova-API-Version: X.Y`` on Nova requests.
            ``None`` (default) sends neither: the base 2.1 behaviour. From 2.92 on Nova no longer generates
            key pairs, so :meth:`create_key_pair` is not supported.
        image_service: ``"image"`` (Glance v2 from the catalog, default) or ``"compute"`` (Nova's ``/images``
            proxy on the compute endpoint, for clouds without a public Glance).
        image_endpoint: A Glance URL to use instead of the catalog's.
        volume_service_type: Catalog type of Cinder (default ``"volumev3"``); ``None`` disables volumes.
        volume_endpoint: A Cinder URL (``.../v3/<project id>``) to use instead of the catalog's.
        page_size: ``limit`` of listing requests; ``None`` (default) leaves it to the server, and every
            listing still follows the pages' links to the end.
        **options: Identity, endpoint and HTTP options (``auth_url=``, ``project_name=``, ``region=``,
            ``endpoint=``, ``auth=``, ``timeout=``, ``retry=``, ...).
    """

    provider: ClassVar[str] = "openstack"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.NODE_REBOOT,
            Capability.NODE_START_STOP,
            Capability.KEY_PAIRS,
            Capability.KEY_PAIR_CREATE,
            Capability.VOLUMES,
            Capability.VOLUME_SNAPSHOTS,
        }
    )
    default_service_type: ClassVar[str] = "compute"

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        microversion: str | None = None,
        image_service: _glance.ImageService = "image",
        image_endpoint: str | None = None,
        volume_service_type: str | None = "volumev3",
        volume_endpoint: str | None = None,
        page_size: int | None = None,
        **options: Unpack[OpenStackOptions],
    ) -> None:
        if image_service not in ("image", "compute"):
            raise ConfigurationError(f"image_service must be 'image' or 'compute', got {image_service!r}")
        if page_size is not None and (
            isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1
        ):
            raise ConfigurationError(f"page_size must be a positive int or None, got {page_size!r}")
        self._microversion = _check_microversion(microversion)
        self._image_service: _glance.ImageService = image_service
        self._image_endpoint = image_endpoint.rstrip("/") if image_endpoint else None
        self._volume_service_type = volume_service_type
        self._volume_endpoint = volume_endpoint.rstrip("/") if volume_endpoint else None
        self._page_size = page_size
        self._http = self._setup_openstack(
            key,
            secret,
            options,
            error_policy=NovaErrorPolicy(self.provider),
            headers={"Accept": "application/json"},
        )

    # ------------------------------------------------------------------------------------- plumbing

    def supports(self, capability: Capability) -> bool:
        """Whether this driver has ``capability`` (no request; key generation depends on the microversion)."""
        if capability is Capability.KEY_PAIR_CREATE and not self._generates_keys():
            return False
        if capability in (Capability.VOLUMES, Capability.VOLUME_SNAPSHOTS) and not (
            self._volume_service_type or self._volume_endpoint
        ):
            return False
        return super().supports(capability)

    def _require(self, capability: Capability) -> None:
        if not self.supports(capability):
            raise NotSupportedError(self.provider, capability)

    def _generates_keys(self) -> bool:
        version = self._microversion
        if version is None:
            return True
        match = _MICROVERSION.match(version)
        return match is not None and (int(match[1]), int(match[2])) < _NO_KEYGEN

    def _nova_headers(self) -> Mapping[str, str]:
        if self._microversion is None:
            return {}
        return {
            "OpenStack-API-Version": f"compute {self._microversion}",
            "X-OpenStack-Nova-API-Version": self._microversion,
        }

    async def _nova_url(self) -> str:
        return await self._service_url()

    async def _nova(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith(("http://", "https://")) else f"{await self._nova_url()}{path}"
        return await self._http.request(method, url, headers=self._nova_headers(), **kwargs)

    async def _image_url(self) -> str:
        if self._image_service == "compute":
            return await self._nova_url()
        return self._image_endpoint or await self._catalog_url("image")

    async def _volume_url(self) -> str:
        if self._volume_endpoint:
            return self._volume_endpoint
        wanted = self._volume_service_type
        if not wanted:
            raise NotSupportedError(self.provider, Capability.VOLUMES, "volumes are disabled for this driver")
        catalog = (await self._auth.access()).catalog
        if not any(e.service_type == wanted for e in catalog.endpoints):
            detail = f"the service catalog has no {wanted!r} (Cinder) endpoint; pass volume_endpoint="
            raise NotSupportedError(self.provider, Capability.VOLUMES, detail)
        return await self._catalog_url(wanted)

    async def _nova_pages(self, path: str, key: str, **params: Any) -> Paginator[dict[str, Any]]:
        """The items under ``key`` of a Nova listing, following ``<key>_links`` to the end."""
        if self._page_size is not None:
            params["limit"] = self._page_size
        first = str(httpx.URL(f"{await self._nova_url()}{path}", params=params))

        async def fetch(url: str) -> tuple[list[dict[str, Any]], str | None]:
            body = json_object(await self._nova("GET", url))
            items = objects(body, key)
            return items, relink(first, next_link(optional(body, f"{key}_links", list))) if items else None

        return link_pages(fetch, first, provider=self.provider)

    # ---------------------------------------------------------------------------------------- nodes

    async def iterate_nodes(self) -> AsyncIterator[Node]:
        """Every server of the project (``GET /servers/detail``, all pages)."""
        async for raw in await self._nova_pages("/servers/detail", "servers"):
            yield self.bind(to_node(raw))

    async def get_node(self, node_id: str) -> Node:
        """One server (``NodeNotFoundError`` when there is none)."""
        response = await self._nova("GET", f"/servers/{_q(node_id)}")
        return self.bind(to_node(require(json_object(response), "server", dict)))

    async def create_node(
        self,
        name: str,
        size: NodeSize,
        image: NodeImage,
        *,
        location: NodeLocation | None = None,
        key_pair: KeyPair | str | None = None,
        user_data: str | bytes | None = None,
        ex_networks: Sequence[str | Mapping[str, Any]] | Literal["auto", "none"] | None = None,
        ex_metadata: Mapping[str, str] | None = None,
        ex_security_groups: Sequence[str] | None = None,
        ex_config_drive: bool | None = None,
        ex_disk_config: Literal["AUTO", "MANUAL"] | None = None,
    ) -> Node:
        """Boot a server (``POST /servers``); the node returned is ``PENDING`` (Nova builds it later).

        Args:
            name: The server's name.
            size: Its flavor.
            image: The image to boot from.
            location: Availability zone (from :meth:`list_locations`).
            key_pair: Key pair (or its name) whose public key is injected.
            user_data: Cloud-init data; sent base64-encoded (at most 65535 bytes once encoded).
            ex_networks: Network ids (or ``{"uuid"|"port"|"fixed_ip": ...}`` dicts) to attach; ``"auto"`` or
                ``"none"`` with microversion 2.37 or later. By default Nova picks (Rackspace: public and
                ServiceNet).
            ex_metadata: Server metadata (string keys and values).
            ex_security_groups: Security group names.
            ex_config_drive: Attach a config drive (Rackspace wants one for ``user_data``).
            ex_disk_config: ``OS-DCF:diskConfig`` (``AUTO`` grows the root partition; Rackspace).

        Note:
            Nova's generated ``adminPass`` is not kept (it would travel with the node's ``extra``): use a key
            pair, or set a password through cloud-init.
        """
        server: dict[str, Any] = {"name": name, "flavorRef": size.id, "imageRef": image.id}
        if location is not None:
            server["availability_zone"] = location.id
        if key_pair is not None:
            server["key_name"] = key_pair if isinstance(key_pair, str) else key_pair.name
        if user_data is not None:
            raw = user_data.encode() if isinstance(user_data, str) else bytes(user_data)
            encoded = base64.b64encode(raw).decode("ascii")
            if len(encoded) > MAX_USER_DATA:
                raise ConfigurationError(
                    f"user_data is {len(encoded)} bytes once base64-encoded; "
                    f"Nova accepts at most {MAX_USER_DATA}"
                )
            server["user_data"] = encoded
        if ex_networks is not None:
            server["networks"] = (
                ex_networks
                if isinstance(ex_networks, str)
                else [{"uuid": n} if isinstance(n, str) else dict(n) for n in ex_networks]
            )
        if ex_metadata:
            server["metadata"] = {str(k): str(v) for k, v in ex_metadata.items()}
        if ex_security_groups:
            server["security_groups"] = [{"name": group} for group in ex_security_groups]
        if ex_config_drive is not None:
            server["config_drive"] = ex_config_drive
        if ex_disk_config is not None:
            server["OS-DCF:diskConfig"] = ex_disk_config
        created = require(
            json_object(await self._nova("POST", "/servers", json={"server": server})), "server", dict
        )
        extra: dict[str, Any] = {"status": "BUILD"}
        for key_, name_ in (("key_name", "key_name"), ("metadata", "metadata")):
            if key_ in server:
                extra[name_] = server[key_]
        if "OS-DCF:diskConfig" in created:
            extra["disk_config"] = created["OS-DCF:diskConfig"]
        if "security_groups" in created:
            extra["security_groups"] = created["security_groups"]
        return self.bind(
            Node(
                id=identifier(created, "id", "server"),
                name=name,
                state=NodeState.PENDING,
                size_id=size.id,
                image_id=image.id,
                location_id=location.id if location is not None else None,
                extra=extra,
            )
        )

    async def _action(self, node: Node, action: Mapping[str, Any]) -> None:
        await self._nova("POST", f"/servers/{_q(node.id)}/action", json=dict(action))

    async def reboot_node(self, node: Node, *, ex_type: Literal["SOFT", "HARD"] = "SOFT") -> None:
        """Reboot a server: ``SOFT`` (default, an ACPI request to the guest) or ``HARD`` (power cycle)."""
        self._require(Capability.NODE_REBOOT)
        if ex_type not in ("SOFT", "HARD"):
            raise ConfigurationError(f"ex_type must be 'SOFT' or 'HARD', got {ex_type!r}")
        await self._action(node, {"reboot": {"type": ex_type}})

    async def start_node(self, node: Node) -> None:
        """Power on a stopped (``SHUTOFF``) server (``os-start``)."""
        self._require(Capability.NODE_START_STOP)
        await self._action(node, {"os-start": None})

    async def stop_node(self, node: Node) -> None:
        """Power off a server, keeping it (``os-stop``)."""
        self._require(Capability.NODE_START_STOP)
        await self._action(node, {"os-stop": None})

    async def destroy_node(self, node: Node) -> None:
        """Delete a server (``DELETE /servers/{id}``; ``NodeNotFoundError`` if it is already gone)."""
        await self._nova("DELETE", f"/servers/{_q(node.id)}")

    # --------------------------------------------------------------------------- sizes, images, zones

    async def iterate_sizes(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeSize]:
        """Every flavor (``GET /flavors/detail``, all pages); flavors do not depend on ``location``."""
        async for raw in await self._nova_pages("/flavors/detail", "flavors"):
            yield self.bind(to_size(raw))

    async def iterate_images(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeImage]:
        """Every image visible to the project, from Glance v2 or Nova's proxy (``image_service=``)."""
        images = _glance.image_pages(
            self._http,
            self._image_service,
            await self._image_url(),
            page_size=self._page_size,
            headers=self._nova_headers() if self._image_service == "compute" else None,
            provider=self.provider,
        )
        async for image in images:
            yield self.bind(image)

    async def get_image(self, image_id: str) -> NodeImage:
        """One image (``ImageNotFoundError`` when there is none)."""
        image = await _glance.get_image(
            self._http,
            self._image_service,
            await self._image_url(),
            image_id,
            headers=self._nova_headers() if self._image_service == "compute" else None,
        )
        return self.bind(image)

    async def iterate_locations(self) -> AsyncIterator[NodeLocation]:
        """The availability zones (``GET /os-availability-zone``); ``extra["available"]``: in service."""
        body = json_object(await self._nova("GET", "/os-availability-zone"))
        for zone in objects(body, "availabilityZoneInfo"):
            if optional(zone, "zoneName", str, "zone"):
                yield self.bind(to_location(zone))

    # ------------------------------------------------------------------------------------ key pairs

    async def iterate_key_pairs(self) -> AsyncIterator[KeyPair]:
        """The user's key pairs (``GET /os-keypairs``, following ``keypairs_links``)."""
        async for item in await self._nova_pages("/os-keypairs", "keypairs"):
            yield self.bind(to_key_pair(optional(item, "keypair", dict, "keypairs entry") or item))

    async def get_key_pair(self, name: str) -> KeyPair:
        """One key pair by name (``KeyPairNotFoundError`` when there is none)."""
        response = await self._nova("GET", f"/os-keypairs/{_q(name)}")
        return self.bind(to_key_pair(require(json_object(response), "keypair", dict)))

    async def create_key_pair(self, name: str) -> KeyPair:
        """Have Nova generate a key pair; its ``private_key`` (a ``SecretStr``) is only in this result.

        Raises:
            KeyPairAlreadyExistsError: The name is taken.
            NotSupportedError: The microversion is 2.92 or later (Nova no longer generates keys).
        """
        self._require(Capability.KEY_PAIR_CREATE)
        response = await self._nova("POST", "/os-keypairs", json={"keypair": {"name": name}})
        key_pair = to_key_pair(require(json_object(response), "keypair", dict))
        if key_pair.private_key is not None:
            self._http.add_secrets(key_pair.private_key.get_secret_value())
        return self.bind(key_pair)

    async def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Register an OpenSSH public key (``ssh-ed25519 ...``, ``ssh-rsa ...``) under ``name``.

        Raises:
            KeyPairAlreadyExistsError: The name is taken.
        """
        body = {"keypair": {"name": name, "public_key": key_material.strip()}}
        response = await self._nova("POST", "/os-keypairs", json=body)
        return self.bind(to_key_pair(require(json_object(response), "keypair", dict)))

    async def delete_key_pair(self, key_pair: KeyPair) -> None:
        """Delete a key pair (``KeyPairNotFoundError`` when there is none)."""
        await self._nova("DELETE", f"/os-keypairs/{_q(key_pair.name)}")


def _check_microversion(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not (value == "latest" or _MICROVERSION.match(value)):
        raise ConfigurationError(f"microversion must look like '2.79' or be 'latest', got {value!r}")
    return value
