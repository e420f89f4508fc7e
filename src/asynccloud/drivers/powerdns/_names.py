"""Record contents in PowerDNS's canonical form (record names: :mod:`asynccloud.drivers._dns_names`).

PowerDNS wants absolute names with their final dot everywhere (rrset names, and host names inside
contents: ``CNAME``/``NS``/``PTR``/``DNAME`` targets, the host of ``MX`` and ``SRV``) and TXT/SPF contents as
quoted DNS strings. The portable API takes zone-relative record names (``""`` or ``"@"`` for the apex; a
final dot makes a name absolute) and data as users write it;
:func:`canonical_content` writes contents that way.
"""

from __future__ import annotations

from typing import Final

from asynccloud.models import RecordType

__all__ = ["canonical_content"]

#: Types whose whole content is a host name.
_HOST_TYPES: Final = frozenset({RecordType.CNAME, RecordType.NS, RecordType.PTR, RecordType.DNAME})
#: Types whose last field is a host name (``MX``: "priority host"; ``SRV``: "priority weight port host").
_HOST_LAST: Final = frozenset({RecordType.MX, RecordType.SRV})


def _host(value: str) -> str:
    return value if value.endswith(".") else value + "."


def canonical_content(rtype: RecordType, data: str, priority: int | None = None) -> str:
    """The content PowerDNS accepts for ``data`` of type ``rtype``.

    Host names get their final dot; TXT/SPF values that are not quoted yet are quoted (inner quotes and
    backslashes escaped); ``priority`` (from ``extra["priority"]``) is put in front of MX/SRV data that
    does not start with it already.
    """
    data = data.strip()
    if rtype in (RecordType.TXT, RecordType.SPF):
        if len(data) >= 2 and data.startswith('"') and data.endswith('"'):
            return data
        return '"' + data.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if rtype in _HOST_TYPES:
        return _host(data)
    if rtype in _HOST_LAST:
        fields = data.split()
        wanted = 2 if rtype is RecordType.MX else 4
        if priority is not None and len(fields) == wanted - 1:
            fields.insert(0, str(priority))
        if fields:
            fields[-1] = _host(fields[-1])
        return " ".join(fields)
    return data
