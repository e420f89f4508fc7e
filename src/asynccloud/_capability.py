"""Optional driver features, declared per driver and queried without a request."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Capability"]


class Capability(StrEnum):
    """Optional features a driver may have; ``driver.supports(Capability.X)`` answers without a request.

    The portable core of each driver kind (listing, get, create, delete) is not listed: every driver of
    that kind has it. A verb behind a capability the driver lacks raises ``NotSupportedError``.
    """

    # compute
    NODE_START_STOP = "node_start_stop"
    NODE_REBOOT = "node_reboot"
    KEY_PAIRS = "key_pairs"
    KEY_PAIR_CREATE = "key_pair_create"
    VOLUMES = "volumes"
    VOLUME_SNAPSHOTS = "volume_snapshots"
    # storage
    CONTAINER_CDN = "container_cdn"
    OBJECT_CDN = "object_cdn"
    SIGNED_URLS = "signed_urls"
    RANGE_DOWNLOADS = "range_downloads"
    MULTIPART_UPLOADS = "multipart_uploads"
    OBJECT_META_DATA = "object_meta_data"
    # dns
    ZONE_UPDATE = "zone_update"
    # load balancers
    BALANCER_UPDATE = "balancer_update"
    MEMBER_WEIGHTS = "member_weights"
