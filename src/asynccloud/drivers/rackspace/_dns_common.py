"""Cloud DNS helpers: record names (FQDN <-> zone-relative), API objects -> models, job outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asynccloud._json import identifier, optional, require
from asynccloud.errors import (
    ConfigurationError,
    OperationFailedError,
    ProviderError,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    ZoneAlreadyExistsError,
    ZoneNotFoundError,
)
from asynccloud.models import Record, RecordType, Zone

__all__ = [
    "classify",
    "job_error",
    "relative_name",
    "to_fqdn",
    "to_record",
    "to_zone",
]

#: Job statuses: INITIALIZED -> RUNNING -> COMPLETED | ERROR.
DONE = frozenset({"COMPLETED", "ERROR"})


def to_fqdn(name: str, domain: str) -> str:
    """The FQDN Cloud DNS wants for a zone-relative name.

    ``""`` and ``"@"`` are the apex; a name ending in ``.`` is already absolute (the dot is dropped, as
    Cloud DNS spells names without it); anything else is relative to ``domain``.
    """
    if not isinstance(name, str):
        raise ConfigurationError(f"record name must be a str, got {type(name).__name__}")
    name = name.strip()
    if name in ("", "@"):
        return domain
    if name.endswith("."):
        return name[:-1]
    return f"{name}.{domain}"


def relative_name(fqdn: str, domain: str) -> str:
    """The zone-relative name of a Cloud DNS FQDN (``""`` for the apex)."""
    name = fqdn.rstrip(".")
    if name.lower() == domain.lower():
        return ""
    suffix = "." + domain.lower()
    if name.lower().endswith(suffix):
        return name[: -len(suffix)]
    return name + "."  # outside the zone (should not happen): keep it absolute


def to_zone(raw: Mapping[str, Any]) -> Zone:
    """A ``domain`` object of the API as a :class:`Zone`."""
    extra: dict[str, Any] = {
        "email": raw.get("emailAddress"),
        "comment": raw.get("comment"),
        "account_id": raw.get("accountId"),
        "created": raw.get("created"),
        "updated": raw.get("updated"),
    }
    nameservers = optional(raw, "nameservers", list, "domain")
    if nameservers is not None:
        extra["nameservers"] = [ns.get("name") for ns in nameservers if isinstance(ns, Mapping)]
    return Zone(
        id=identifier(raw, "id", "domain"),
        domain=require(raw, "name", str, "domain"),
        ttl=optional(raw, "ttl", int, "domain"),
        extra={k: v for k, v in extra.items() if v is not None},
    )


def to_record(raw: Mapping[str, Any], zone_id: str, domain: str) -> Record:
    """A ``record`` object of the API as a :class:`Record` with a zone-relative name."""
    fqdn = require(raw, "name", str, "record")
    extra: dict[str, Any] = {
        "fqdn": fqdn,
        "priority": optional(raw, "priority", int, "record"),
        "comment": raw.get("comment"),
        "created": raw.get("created"),
        "updated": raw.get("updated"),
    }
    return Record(
        id=identifier(raw, "id", "record"),
        name=relative_name(fqdn, domain),
        type=RecordType(require(raw, "type", str, "record").upper()),
        data=require(raw, "data", str, "record"),
        zone_id=zone_id,
        ttl=optional(raw, "ttl", int, "record"),
        extra={k: v for k, v in extra.items() if v is not None},
    )


def classify(path: str, status: int) -> type[ProviderError] | None:
    """The precise error of a 404/409 on a Cloud DNS URL (records vs. domains)."""
    record = "/records" in path
    if status == 404 and "/domains" in path:
        return RecordNotFoundError if record else ZoneNotFoundError
    if status == 409 and "/domains" in path:
        return RecordAlreadyExistsError if record else ZoneAlreadyExistsError
    return None


def _faults(error: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    failed = error.get("failedItems")
    faults = failed.get("faults") if isinstance(failed, Mapping) else None
    found = [f for f in faults if isinstance(f, Mapping)] if isinstance(faults, list) else []
    return found or [error]


def job_error(
    job: Mapping[str, Any],
    what: str,
    *,
    not_found: type[ProviderError],
    conflict: type[ProviderError],
) -> Exception:
    """The exception for a job that ended in ``ERROR``.

    A job that failed because the item exists (code 409, or a "duplicate" / "already exists" message)
    raises ``conflict``; one whose item is gone (404) raises ``not_found``; anything else is an
    :class:`~asynccloud.errors.OperationFailedError` whose message carries the job id and every fault's
    code, message and details.
    """
    error = job.get("error")
    error = error if isinstance(error, Mapping) else {}
    texts: list[str] = []
    codes: set[int] = set()
    for fault in _faults(error):
        code = fault.get("code")
        if isinstance(code, int):
            codes.add(code)
        parts = [str(fault[k]) for k in ("message", "details") if fault.get(k)]
        texts.append(f"{' '.join(parts) or 'unknown error'}" + (f" (code {code})" if code else ""))
    detail = "; ".join(dict.fromkeys(texts)) or "no error details"
    lowered = detail.lower()
    job_id = job.get("jobId", "?")
    message = f"{what} failed: job {job_id}: {detail}"
    if codes == {409} or "already exists" in lowered or "duplicate" in lowered:
        return conflict(message, provider="rackspace", status=409, code="itemAlreadyExists")
    if codes == {404}:
        return not_found(message, provider="rackspace", status=404, code="itemNotFound")
    return OperationFailedError(message)
