"""The service catalog: endpoints parsed from Keystone v2/v3 token responses, and how one is selected."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from asynccloud.errors import ConfigurationError

__all__ = ["INTERFACES", "Endpoint", "EndpointFilter", "ServiceCatalog"]

#: The interfaces an endpoint is published on (v3 names; v2's ``publicURL`` etc. are mapped onto them).
INTERFACES: Final = ("public", "internal", "admin")
_V2_KEYS: Final = {"publicURL": "public", "internalURL": "internal", "adminURL": "admin"}


def normalize_interface(value: str) -> str:
    """``"public"``, ``"publicURL"``, ``"PUBLIC"`` -> ``"public"``; unknown names: ``ConfigurationError``."""
    lowered = value.strip().lower()
    if lowered.endswith("url"):
        lowered = lowered[:-3]
    if lowered not in INTERFACES:
        raise ConfigurationError(f"interface must be one of {', '.join(INTERFACES)}; got {value!r}")
    return lowered


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL of one service, as published in the catalog.

    Attributes:
        service_type: The service's type (``"object-store"``, ``"compute"``, ``"rax:object-cdn"``, ...).
        service_name: The service's name (``"swift"``, ``"cloudFiles"``, ``"nova"``, ...), if given.
        interface: ``"public"``, ``"internal"`` or ``"admin"``.
        region: The region (``"RegionOne"``, ``"ORD"``), or ``None`` for a global endpoint.
        url: The endpoint's base URL.
        tenant_id: The v2 ``tenantId`` of the endpoint, when published (Rackspace).
    """

    service_type: str
    service_name: str | None
    interface: str
    region: str | None
    url: str
    tenant_id: str | None = None


class ServiceCatalog:
    """The endpoints a token gives access to.

    Build one with :meth:`from_v3`, :meth:`from_v2` or :meth:`single`; pick an endpoint with :meth:`select`.

    Args:
        endpoints: The endpoints.
    """

    __slots__ = ("_endpoints",)

    def __init__(self, endpoints: Iterable[Endpoint] = ()) -> None:
        self._endpoints = tuple(endpoints)

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """Every endpoint, in catalog order."""
        return self._endpoints

    def __len__(self) -> int:
        return len(self._endpoints)

    def __repr__(self) -> str:
        services = sorted({f"{e.service_type}/{e.service_name or '-'}" for e in self._endpoints})
        return f"ServiceCatalog({len(self._endpoints)} endpoints: {', '.join(services)})"

    @classmethod
    def from_v3(cls, catalog: Sequence[Any] | None) -> ServiceCatalog:
        """Parse a v3 ``token.catalog``.

        Shape: ``[{"type", "name", "endpoints": [{"interface", "region_id", "url"}]}]``.

        Endpoints of an unknown interface or without a URL are skipped.
        """
        found: list[Endpoint] = []
        for service in _dicts(catalog):
            stype, sname = _str(service.get("type")), _str(service.get("name"))
            if stype is None:
                continue
            for ep in _dicts(service.get("endpoints")):
                url, interface = _str(ep.get("url")), _str(ep.get("interface"))
                if url is None or interface is None or interface.lower() not in INTERFACES:
                    continue
                region = _str(ep.get("region_id")) or _str(ep.get("region"))
                found.append(Endpoint(stype, sname, interface.lower(), region, url))
        return cls(found)

    @classmethod
    def from_v2(cls, catalog: Sequence[Any] | None) -> ServiceCatalog:
        """Parse a v2.0 ``access.serviceCatalog``.

        Shape: ``[{"type", "name", "endpoints": [{"region", "tenantId", "publicURL", "internalURL"}]}]``;
        each ``*URL`` key becomes one endpoint of that interface.
        """
        found: list[Endpoint] = []
        for service in _dicts(catalog):
            stype, sname = _str(service.get("type")), _str(service.get("name"))
            if stype is None:
                continue
            for ep in _dicts(service.get("endpoints")):
                region, tenant = _str(ep.get("region")), _str(ep.get("tenantId"))
                for key, interface in _V2_KEYS.items():
                    url = _str(ep.get(key))
                    if url is not None:
                        found.append(Endpoint(stype, sname, interface, region, url, tenant))
        return cls(found)

    @classmethod
    def single(cls, service_type: str, url: str, service_name: str | None = None) -> ServiceCatalog:
        """A catalog of one public, region-less endpoint (v1.0 auth's ``X-Storage-Url``)."""
        return cls([Endpoint(service_type, service_name, "public", None, url)])

    def select(
        self,
        service_type: str | None = None,
        *,
        service_name: str | None = None,
        region: str | None = None,
        interface: str = "public",
    ) -> Endpoint:
        """Pick exactly one endpoint.

        Service type and name must match exactly when given. Regions match case-insensitively (``ord`` finds
        ``ORD``); a global endpoint (no region, like Rackspace's ``cloudDNS``) matches any region, but an
        endpoint of the requested region is preferred. Without ``region``, the services' endpoints must all
        be in one region (or global), else the choice is ambiguous.

        Args:
            service_type: E.g. ``"object-store"``; ``None`` to select by name only.
            service_name: E.g. ``"cloudFiles"``; ``None`` for any.
            region: E.g. ``"RegionOne"``; ``None`` for the only one.
            interface: ``"public"`` (default), ``"internal"`` or ``"admin"``.

        Returns:
            The endpoint.

        Raises:
            ConfigurationError: No endpoint or several different ones match; the message lists the catalog.
        """
        if service_type is None and service_name is None:
            raise ConfigurationError("select an endpoint by service_type, service_name or both")
        wanted = normalize_interface(interface)
        candidates = [
            e
            for e in self._endpoints
            if (service_type is None or e.service_type == service_type)
            and (service_name is None or e.service_name == service_name)
            and e.interface == wanted
        ]
        what = _describe(service_type, service_name, region, wanted)
        if region is not None:
            candidates = _in_region(candidates, region)
        urls = {e.url for e in candidates}
        if len(urls) == 1:
            return candidates[0]
        if not urls:
            raise ConfigurationError(f"the service catalog has no {what}; it has: {self._summary()}")
        regions = sorted({e.region or "(global)" for e in candidates})
        hint = "pass region=" if region is None and len(regions) > 1 else "pass service_name="
        raise ConfigurationError(
            f"the service catalog has several {what}s ({', '.join(sorted(urls))}); {hint} to choose"
        )

    def _summary(self) -> str:
        if not self._endpoints:
            return "no endpoints at all (an unscoped token? pass a project)"
        grouped: dict[tuple[str, str | None], set[str]] = {}
        for e in self._endpoints:
            grouped.setdefault((e.service_type, e.service_name), set()).add(
                f"{e.region or 'global'}/{e.interface}"
            )
        return "; ".join(
            f"{stype} ({name or 'unnamed'}): {', '.join(sorted(where))}"
            for (stype, name), where in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
        )


@dataclass(frozen=True, slots=True)
class EndpointFilter:
    """How a driver finds its endpoint: a catalog query, or a fixed URL that skips the catalog.

    Attributes:
        service_type: The catalog type (``"object-store"``, ``"compute"``, ...).
        service_name: The catalog name (``"swift"``, ``"cloudFiles"``), or ``None`` for any.
        region: The region, or ``None`` when the catalog has only one.
        interface: ``"public"``, ``"internal"`` or ``"admin"``.
        endpoint: A URL to use as is (no catalog lookup): emulators, private clouds, v1 auth overrides.
    """

    service_type: str
    service_name: str | None = None
    region: str | None = None
    interface: str = "public"
    endpoint: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "interface", normalize_interface(self.interface))
        if self.endpoint is not None and not self.endpoint.startswith(("http://", "https://")):
            raise ConfigurationError(f"endpoint must be an http(s) URL, got {self.endpoint!r}")

    def select(self, catalog: ServiceCatalog) -> str:
        """The URL this filter designates in ``catalog`` (or the fixed ``endpoint``)."""
        if self.endpoint is not None:
            return self.endpoint
        return catalog.select(
            self.service_type, service_name=self.service_name, region=self.region, interface=self.interface
        ).url


def _in_region(candidates: list[Endpoint], region: str) -> list[Endpoint]:
    """Endpoints usable in ``region``: a regional service's endpoints there, a global service's anywhere.

    A service published in some regions but not this one is out (never silently swapped for a global
    service); when both a regional and a global service match, the regional one wins.
    """
    services: dict[tuple[str, str | None], list[Endpoint]] = {}
    for e in candidates:
        services.setdefault((e.service_type, e.service_name), []).append(e)
    kept: list[Endpoint] = []
    for endpoints in services.values():
        if any(e.region is not None for e in endpoints):
            kept += [e for e in endpoints if e.region is not None and e.region.lower() == region.lower()]
        else:
            kept += endpoints
    regional = [e for e in kept if e.region is not None]
    return regional or kept


def _describe(service_type: str | None, service_name: str | None, region: str | None, interface: str) -> str:
    parts = [f"{interface} endpoint"]
    if service_type:
        parts.append(f"of type {service_type!r}")
    if service_name:
        parts.append(f"named {service_name!r}")
    if region:
        parts.append(f"in region {region!r}")
    return " ".join(parts)


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
