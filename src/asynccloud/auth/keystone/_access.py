"""What an authentication yields (:class:`AccessInfo`), and how the identity services' answers are read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, NoReturn

from asynccloud._json import MalformedJson, json_object
from asynccloud.auth.keystone._catalog import ServiceCatalog
from asynccloud.errors import ProviderError

if TYPE_CHECKING:
    import httpx

__all__ = ["AccessInfo", "malformed", "parse_v2_access", "parse_v3_token"]


@dataclass(frozen=True, repr=False, eq=False)
class AccessInfo:
    """A token and what came with it.

    Attributes:
        token: The token (secret: never shown by ``repr``).
        expires_at: When the token expires (aware), or ``None`` when the identity service did not say.
        issued_at: When it was obtained, by the local clock (aware).
        catalog: The service catalog (empty for unscoped tokens and static tokens).
        project_id: The project (v2 tenant) the token is scoped to, if any.
        project_name: Its name, if given.
        user_id: The authenticated user's id, if given.
    """

    token: str
    expires_at: datetime | None
    issued_at: datetime
    catalog: ServiceCatalog = field(default_factory=ServiceCatalog)
    project_id: str | None = None
    project_name: str | None = None
    user_id: str | None = None

    def __repr__(self) -> str:
        expires = self.expires_at.isoformat() if self.expires_at else None
        return (
            f"AccessInfo(token=***, expires_at={expires!r}, project_id={self.project_id!r}, "
            f"user_id={self.user_id!r}, catalog={self.catalog!r})"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("AccessInfo cannot be pickled: it holds a token")


def parse_v3_token(response: httpx.Response, now: datetime, provider: str | None = None) -> AccessInfo:
    """Read a v3 ``POST /auth/tokens`` answer: ``X-Subject-Token`` header plus the ``token`` document."""
    token = response.headers.get("x-subject-token")
    body = _json(response, provider)
    doc = body.get("token")
    if not token or not isinstance(doc, Mapping):
        raise malformed(response, "no X-Subject-Token header or no 'token' document", provider)
    project, user = _sub(doc, "project"), _sub(doc, "user")
    return AccessInfo(
        token=token,
        expires_at=_local_expiry(doc.get("expires_at"), doc.get("issued_at"), response, now),
        issued_at=now,
        catalog=ServiceCatalog.from_v3(doc.get("catalog")),
        project_id=_opt(project.get("id")),
        project_name=_opt(project.get("name")),
        user_id=_opt(user.get("id")),
    )


def parse_v2_access(response: httpx.Response, now: datetime, provider: str | None = None) -> AccessInfo:
    """Read a v2.0 ``POST /tokens`` answer: ``access.token`` and ``access.serviceCatalog``."""
    access = _json(response, provider).get("access")
    token_doc = access.get("token") if isinstance(access, Mapping) else None
    token = token_doc.get("id") if isinstance(token_doc, Mapping) else None
    if not isinstance(access, Mapping) or not isinstance(token_doc, Mapping) or not isinstance(token, str):
        raise malformed(response, "no 'access.token.id'", provider)
    tenant, user = _sub(token_doc, "tenant"), _sub(access, "user")
    return AccessInfo(
        token=token,
        expires_at=_local_expiry(token_doc.get("expires"), token_doc.get("issued_at"), response, now),
        issued_at=now,
        catalog=ServiceCatalog.from_v2(access.get("serviceCatalog")),
        project_id=_opt(tenant.get("id")),
        project_name=_opt(tenant.get("name")),
        user_id=_opt(user.get("id")),
    )


def _json(response: httpx.Response, provider: str | None) -> Mapping[str, Any]:
    try:
        return json_object(response)
    except MalformedJson as exc:  # not JSON, nested too deep to decode, or not an object
        raise malformed(response, str(exc), provider) from None


def malformed(response: httpx.Response, what: str, provider: str | None) -> ProviderError:
    return ProviderError(
        f"unexpected answer from the identity service (HTTP {response.status_code}): {what}",
        provider=provider,
        status=response.status_code,
        code="MalformedTokenResponse",
    )


def _parse_time(value: Any) -> datetime | None:
    """ISO 8601 (``2015-11-09T01:42:57.527363Z``, ``2012-06-05T11:26:53.000-05:00``) -> aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _local_expiry(expires: Any, issued: Any, response: httpx.Response, now: datetime) -> datetime | None:
    """When the token expires by the *local* clock.

    The identity service states the expiry by its own clock; measuring the token's remaining life against
    the service's notion of "now" (the token's ``issued_at``, else the ``Date`` header) makes renewal immune
    to clock skew: a skewed local clock would otherwise think every new token had already expired.
    """
    expires_at = _parse_time(expires)
    if expires_at is None:
        return None
    server_now = _parse_time(issued) or _http_date(response.headers.get("date"))
    if server_now is None:
        return expires_at
    return now + (expires_at - server_now)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _sub(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, Mapping) else {}


def _opt(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and value != "" else None
