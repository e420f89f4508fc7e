"""Where a Nova driver reads images from: Glance v2, or Nova's own ``/images`` proxy.

* ``"image"`` (the default): the catalog's Glance endpoint, ``GET /v2/images`` following the ``next`` link of
  each page to the end, ``GET /v2/images/{id}``.
* ``"compute"``: ``GET /images/detail`` (following ``images_links``) and ``GET /images/{id}`` on the compute
  endpoint. Nova deprecated this proxy in microversion 2.36, but clouds without a public Glance serve their
  images this way (Rackspace next-generation Cloud Servers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import httpx

from asynccloud._json import json_object, objects, optional, require
from asynccloud._pagination import link_pages, next_link
from asynccloud.drivers.openstack._nova_parse import relink, to_glance_image, to_nova_image

if TYPE_CHECKING:
    from collections.abc import Mapping

    from asynccloud._http import HttpClient
    from asynccloud._pagination import Paginator
    from asynccloud.models import NodeImage

__all__ = ["ImageService", "get_image", "image_pages"]

#: Which API serves images (see the module docstring).
ImageService = Literal["image", "compute"]


def image_pages(
    http: HttpClient,
    service: ImageService,
    base: str,
    *,
    page_size: int | None,
    headers: Mapping[str, str] | None = None,
    provider: str,
) -> Paginator[NodeImage]:
    """Every image, page after page (a :class:`~asynccloud._pagination.Paginator`, nothing to close).

    Args:
        http: The driver's client.
        service: ``"image"`` (Glance v2) or ``"compute"`` (Nova's proxy).
        base: The Glance endpoint (with or without ``/v2``), or the compute endpoint.
        page_size: ``limit`` per page; ``None`` leaves it to the server.
        headers: Extra headers (Nova's microversion headers for the proxy).
        provider: For pagination errors.
    """
    params: dict[str, Any] = {} if page_size is None else {"limit": page_size}
    glance = service == "image"
    if glance:
        first = str(httpx.URL(f"{_glance_v2(base)}/images", params=params))
    else:
        first = str(httpx.URL(f"{base}/images/detail", params=params))

    async def fetch(url: str) -> tuple[list[NodeImage], str | None]:
        body = json_object(await http.request("GET", url, headers=headers))
        items = objects(body, "images")
        if not items:
            return [], None
        if glance:
            return [to_glance_image(raw) for raw in items], relink(first, optional(body, "next", str))
        links = optional(body, "images_links", list)
        return [to_nova_image(raw) for raw in items], relink(first, next_link(links))

    return link_pages(fetch, first, provider=provider)


async def get_image(
    http: HttpClient,
    service: ImageService,
    base: str,
    image_id: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> NodeImage:
    """One image by id (``ImageNotFoundError`` from the error policy when there is none)."""
    quoted = quote(image_id, safe="")
    if service == "image":
        body = json_object(await http.request("GET", f"{_glance_v2(base)}/images/{quoted}", headers=headers))
        return to_glance_image(body)
    body = json_object(await http.request("GET", f"{base}/images/{quoted}", headers=headers))
    return to_nova_image(require(body, "image", dict))


def _glance_v2(base: str) -> str:
    # Catalogs list Glance both as "https://glance:9292" and as ".../v2".
    return base if base.rstrip("/").endswith("/v2") else f"{base}/v2"
