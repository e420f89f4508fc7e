"""Record names between the portable form (zone-relative, ``""`` or ``"@"`` for the apex) and absolute ones.

Shared by the DNS drivers whose API speaks absolute names with their final dot (Designate, PowerDNS). A name
that already ends with a dot is absolute and passes through.
"""

from __future__ import annotations

__all__ = ["absolute", "fqdn", "relative"]


def absolute(domain: str) -> str:
    """``"example.org"`` → ``"example.org."``."""
    return domain.strip().rstrip(".") + "."


def fqdn(name: str, zone_name: str) -> str:
    """The absolute name of a zone-relative record name (``zone_name`` ends with a dot)."""
    name = name.strip()
    if name in ("", "@"):
        return zone_name
    if name.endswith("."):
        return name
    return f"{name}.{zone_name}"


def relative(name: str, zone_name: str) -> str:
    """The zone-relative form of an absolute name (``""`` for the apex; other zones' names unchanged)."""
    if name.lower() == zone_name.lower():
        return ""
    suffix = "." + zone_name.lower()
    return name[: -len(suffix)] if name.lower().endswith(suffix) else name
