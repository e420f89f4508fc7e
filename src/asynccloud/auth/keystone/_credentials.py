"""Keystone credentials, one class per flow, and what an authentication yields (:class:`AccessInfo`).

Each credentials object knows how to obtain a token with an :class:`~asynccloud._http.HttpClient` (so the
token request gets the retry loop and the error mapping) and how to read the answer:

=============================  ===============================================================================
:class:`V3Password`            ``POST /v3/auth/tokens``, method ``password``, user by name+domain or id, scope
:class:`V3ApplicationCredential`  method ``application_credential`` (id + secret, or name + user + secret)
:class:`V3Token`               method ``token``: an existing token, (re)scoped; catalog from the answer
:class:`V2Password`            ``POST /v2.0/tokens`` with ``passwordCredentials``
:class:`V2ApiKey`              ``POST /v2.0/tokens`` with ``RAX-KSKEY:apiKeyCredentials`` (Rackspace)
:class:`V2Token`               ``POST /v2.0/tokens`` with ``token``
:class:`V1Password`            ``GET`` the auth URL with ``X-Auth-User``/``X-Auth-Key`` (Swift tempauth)
:class:`StaticToken`           no request at all: a token used as is with a fixed endpoint
=============================  ===============================================================================

Secrets (passwords, keys, tokens) never appear in ``repr``; every class refuses to be pickled.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from asynccloud.auth.keystone._access import AccessInfo, malformed, parse_v2_access, parse_v3_token
from asynccloud.auth.keystone._catalog import ServiceCatalog
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from asynccloud._http import HttpClient

__all__ = [
    "Credentials",
    "StaticToken",
    "V1Password",
    "V2ApiKey",
    "V2Password",
    "V2Token",
    "V3ApplicationCredential",
    "V3Password",
    "V3Scope",
    "V3Token",
]


class Credentials(abc.ABC):
    """What a :class:`~asynccloud.auth.keystone.KeystoneAuth` authenticates with (one subclass per flow)."""

    #: The identity API version the flow speaks: ``"1.0"``, ``"2.0"``, ``"3"`` (``"static"``: none).
    version: ClassVar[str]
    #: Whether a new token can be obtained when one expires or is rejected.
    can_reauthenticate: ClassVar[bool] = True

    @abc.abstractmethod
    def secrets(self) -> tuple[str, ...]:
        """The secret values to redact from logs and messages."""

    @abc.abstractmethod
    async def authenticate(self, http: HttpClient, auth_url: str, now: datetime) -> AccessInfo:
        """Obtain a token.

        Args:
            http: The client to send the token request with (no auth flow on it).
            auth_url: The identity service's URL as configured.
            now: The current time, for :attr:`AccessInfo.issued_at` and relative expiries.
        """

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._public().items() if v is not None)
        return f"{type(self).__name__}({shown})"

    def _public(self) -> dict[str, Any]:
        return {}

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} cannot be pickled: it holds credentials")


def _require(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be a non-empty string")


# ------------------------------------------------------------------------------------------------ v3


@dataclass(frozen=True, kw_only=True)
class V3Scope:
    """What a v3 token is scoped to: a project (by id, or by name within a domain), a domain, or nothing.

    Attributes:
        project_id: Project id (enough on its own).
        project_name: Project name; needs ``project_domain_name`` or ``project_domain_id``.
        project_domain_name: Domain of the project, by name.
        project_domain_id: Domain of the project, by id.
        domain_name: Domain scope by name (instead of a project).
        domain_id: Domain scope by id (instead of a project).
    """

    project_id: str | None = None
    project_name: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    domain_name: str | None = None
    domain_id: str | None = None

    def __post_init__(self) -> None:
        project = self.project_id or self.project_name
        domain = self.domain_id or self.domain_name
        if project and domain:
            raise ConfigurationError("scope to a project or to a domain, not both")
        if (
            self.project_name
            and not self.project_id
            and not (self.project_domain_name or self.project_domain_id)
        ):
            raise ConfigurationError("a project given by name needs its domain (project_domain_name=)")

    def body(self) -> dict[str, Any] | None:
        """The ``auth.scope`` object, or ``None`` for an unscoped request (the user's default project)."""
        if self.project_id:
            return {"project": {"id": self.project_id}}
        if self.project_name:
            return {
                "project": {
                    "name": self.project_name,
                    "domain": _domain(self.project_domain_id, self.project_domain_name),
                }
            }
        if self.domain_id or self.domain_name:
            return {"domain": _domain(self.domain_id, self.domain_name)}
        return None


def _domain(domain_id: str | None, name: str | None) -> dict[str, str]:
    return {"id": domain_id} if domain_id else {"name": name or ""}


def _v3_tokens_url(auth_url: str) -> str:
    url = auth_url.rstrip("/")
    if url.endswith("/auth/tokens"):
        return url
    return url + ("/auth/tokens" if url.endswith("/v3") else "/v3/auth/tokens")


class _V3(Credentials):
    version = "3"

    def _identity(self) -> dict[str, Any]:
        raise NotImplementedError

    def _scope(self) -> dict[str, Any] | None:
        return None

    async def authenticate(self, http: HttpClient, auth_url: str, now: datetime) -> AccessInfo:
        auth: dict[str, Any] = {"identity": self._identity()}
        scope = self._scope()
        if scope is not None:
            auth["scope"] = scope
        response = await http.request(
            "POST", _v3_tokens_url(auth_url), json={"auth": auth}, idempotent=True, auth=None
        )
        return parse_v3_token(response, now, http.provider)


@dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class V3Password(_V3):
    """Keystone v3 password authentication.

    Attributes:
        password: The password.
        username: The user's name (with ``user_domain_name`` or ``user_domain_id``) ...
        user_id: ... or the user's id.
        user_domain_name: The user's domain by name (``"Default"`` in most clouds).
        user_domain_id: The user's domain by id (``"default"``).
        scope: Project or domain to scope the token to.
    """

    password: str
    username: str | None = None
    user_id: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    scope: V3Scope = field(default_factory=V3Scope)

    def __post_init__(self) -> None:
        _require("password", self.password)
        if not (self.user_id or self.username):
            raise ConfigurationError("V3Password needs username= (with a user domain) or user_id=")
        if self.username and not self.user_id and not (self.user_domain_name or self.user_domain_id):
            raise ConfigurationError("a user given by name needs its domain (user_domain_name=)")

    def secrets(self) -> tuple[str, ...]:
        return (self.password,)

    def _public(self) -> dict[str, Any]:
        return {"username": self.username, "user_id": self.user_id, "user_domain_name": self.user_domain_name,
                "user_domain_id": self.user_domain_id, "scope": self.scope}  # fmt: skip

    def _identity(self) -> dict[str, Any]:
        user: dict[str, Any] = {"password": self.password}
        if self.user_id:
            user["id"] = self.user_id
        else:
            user["name"] = self.username
            user["domain"] = _domain(self.user_domain_id, self.user_domain_name)
        return {"methods": ["password"], "password": {"user": user}}

    def _scope(self) -> dict[str, Any] | None:
        return self.scope.body()


@dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class V3ApplicationCredential(_V3):
    """Keystone v3 application credential (its scope is fixed when it is created; no scope is sent).

    Attributes:
        secret: The application credential's secret.
        id: Its id (enough on its own) ...
        name: ... or its name, with the owning user (``username`` + domain, or ``user_id``).
        username: The owner's name.
        user_id: The owner's id.
        user_domain_name: The owner's domain by name.
        user_domain_id: The owner's domain by id.
    """

    secret: str
    id: str | None = None
    name: str | None = None
    username: str | None = None
    user_id: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None

    def __post_init__(self) -> None:
        _require("secret", self.secret)
        if not self.id and not (self.name and (self.user_id or self.username)):
            raise ConfigurationError("an application credential needs id=, or name= with its user")

    def secrets(self) -> tuple[str, ...]:
        return (self.secret,)

    def _public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "username": self.username, "user_id": self.user_id}

    def _identity(self) -> dict[str, Any]:
        cred: dict[str, Any] = {"secret": self.secret}
        if self.id:
            cred["id"] = self.id
        else:
            cred["name"] = self.name
            if self.user_id:
                cred["user"] = {"id": self.user_id}
            else:
                cred["user"] = {
                    "name": self.username,
                    "domain": _domain(self.user_domain_id, self.user_domain_name),
                }
        return {"methods": ["application_credential"], "application_credential": cred}


@dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class V3Token(_V3):
    """Keystone v3 ``token`` method: trade an existing token for a (scoped) one with a catalog.

    When that token expires there is nothing to re-authenticate with: a later 401 is raised as is.

    Attributes:
        token: The existing token.
        scope: Project or domain to scope the new token to.
    """

    token: str
    scope: V3Scope = field(default_factory=V3Scope)

    def __post_init__(self) -> None:
        _require("token", self.token)

    def secrets(self) -> tuple[str, ...]:
        return (self.token,)

    def _public(self) -> dict[str, Any]:
        return {"scope": self.scope}

    def _identity(self) -> dict[str, Any]:
        return {"methods": ["token"], "token": {"id": self.token}}

    def _scope(self) -> dict[str, Any] | None:
        return self.scope.body()


# ------------------------------------------------------------------------------------------------ v2


def _v2_tokens_url(auth_url: str) -> str:
    url = auth_url.rstrip("/")
    if url.endswith("/tokens"):
        return url
    return url + ("/tokens" if url.endswith("/v2.0") else "/v2.0/tokens")


class _V2(Credentials):
    version = "2.0"
    tenant_name: str | None
    tenant_id: str | None

    def _credentials(self) -> dict[str, Any]:
        raise NotImplementedError

    async def authenticate(self, http: HttpClient, auth_url: str, now: datetime) -> AccessInfo:
        auth = self._credentials()
        if self.tenant_id:
            auth["tenantId"] = self.tenant_id
        elif self.tenant_name:
            auth["tenantName"] = self.tenant_name
        response = await http.request(
            "POST", _v2_tokens_url(auth_url), json={"auth": auth}, idempotent=True, auth=None
        )
        return parse_v2_access(response, now, http.provider)


@dataclass(frozen=True, repr=False, eq=False)
class V2Password(_V2):
    """Keystone v2.0 ``passwordCredentials``.

    Attributes:
        username: The user name.
        password: The password.
        tenant_name: The tenant (project) to scope to, by name.
        tenant_id: The tenant to scope to, by id.
    """

    username: str
    password: str
    tenant_name: str | None = None
    tenant_id: str | None = None

    def __post_init__(self) -> None:
        _require("username", self.username)
        _require("password", self.password)

    def secrets(self) -> tuple[str, ...]:
        return (self.password,)

    def _public(self) -> dict[str, Any]:
        return {"username": self.username, "tenant_name": self.tenant_name, "tenant_id": self.tenant_id}

    def _credentials(self) -> dict[str, Any]:
        return {"passwordCredentials": {"username": self.username, "password": self.password}}


@dataclass(frozen=True, repr=False, eq=False)
class V2ApiKey(_V2):
    """Rackspace identity v2.0 ``RAX-KSKEY:apiKeyCredentials`` (user name + API key).

    Attributes:
        username: The Rackspace user name.
        api_key: The API key.
        tenant_name: Optional tenant to scope to, by name.
        tenant_id: Optional tenant to scope to, by id.
    """

    username: str
    api_key: str
    tenant_name: str | None = None
    tenant_id: str | None = None

    def __post_init__(self) -> None:
        _require("username", self.username)
        _require("api_key", self.api_key)

    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,)

    def _public(self) -> dict[str, Any]:
        return {"username": self.username, "tenant_name": self.tenant_name, "tenant_id": self.tenant_id}

    def _credentials(self) -> dict[str, Any]:
        return {"RAX-KSKEY:apiKeyCredentials": {"username": self.username, "apiKey": self.api_key}}


@dataclass(frozen=True, repr=False, eq=False)
class V2Token(_V2):
    """Keystone v2.0 ``token`` credentials: trade an existing token for a tenant-scoped one with a catalog.

    Attributes:
        token: The existing token.
        tenant_name: The tenant to scope to, by name.
        tenant_id: The tenant to scope to, by id.
    """

    token: str
    tenant_name: str | None = None
    tenant_id: str | None = None

    def __post_init__(self) -> None:
        _require("token", self.token)

    def secrets(self) -> tuple[str, ...]:
        return (self.token,)

    def _public(self) -> dict[str, Any]:
        return {"tenant_name": self.tenant_name, "tenant_id": self.tenant_id}

    def _credentials(self) -> dict[str, Any]:
        return {"token": {"id": self.token}}


# ------------------------------------------------------------------------------------------------ v1


@dataclass(frozen=True, repr=False, eq=False)
class V1Password(Credentials):
    """v1.0 auth (Swift tempauth, legacy Rackspace): ``GET`` the auth URL with ``X-Auth-User``/``-Key``.

    The answer's ``X-Storage-Url`` becomes the catalog's only ``object-store`` endpoint (plus
    ``rax:object-cdn`` when an ``X-CDN-Management-Url`` is given); ``X-Auth-Token-Expires`` (seconds), when
    present, sets the expiry.

    Attributes:
        user: The user, ``account:user`` for tempauth.
        key: The key (password).
    """

    version: ClassVar[str] = "1.0"
    user: str
    key: str

    def __post_init__(self) -> None:
        _require("user", self.user)
        _require("key", self.key)

    def secrets(self) -> tuple[str, ...]:
        return (self.key,)

    def _public(self) -> dict[str, Any]:
        return {"user": self.user}

    async def authenticate(self, http: HttpClient, auth_url: str, now: datetime) -> AccessInfo:
        response = await http.request(
            "GET", auth_url, headers={"X-Auth-User": self.user, "X-Auth-Key": self.key}, auth=None
        )
        token = response.headers.get("x-auth-token") or response.headers.get("x-storage-token")
        storage_url = response.headers.get("x-storage-url")
        if not token or not storage_url:
            raise malformed(response, "no X-Auth-Token or X-Storage-Url header", http.provider)
        catalog = ServiceCatalog.single("object-store", storage_url, "swift")
        cdn_url = response.headers.get("x-cdn-management-url")
        if cdn_url:
            catalog = ServiceCatalog(
                [*catalog.endpoints, *ServiceCatalog.single("rax:object-cdn", cdn_url).endpoints]
            )
        expires_at: datetime | None = None
        lifetime = response.headers.get("x-auth-token-expires")
        if lifetime:
            try:
                expires_at = now + timedelta(seconds=float(lifetime))
            except (ValueError, OverflowError):
                expires_at = None
        return AccessInfo(token=token, expires_at=expires_at, issued_at=now, catalog=catalog)


# ------------------------------------------------------------------------------------------------ static


@dataclass(frozen=True, repr=False, eq=False)
class StaticToken(Credentials):
    """A token used as is, with a fixed endpoint: no identity service is contacted, nothing is refreshed.

    A 401 on a call is raised as :class:`~asynccloud.errors.AuthenticationError`.

    Attributes:
        token: The token.
    """

    version: ClassVar[str] = "static"
    can_reauthenticate: ClassVar[bool] = False
    token: str

    def __post_init__(self) -> None:
        _require("token", self.token)

    def secrets(self) -> tuple[str, ...]:
        return (self.token,)

    async def authenticate(self, http: HttpClient, auth_url: str, now: datetime) -> AccessInfo:
        return AccessInfo(token=self.token, expires_at=None, issued_at=now)
