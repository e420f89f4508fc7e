"""From a driver's Libcloud-style keywords (``auth_url=``, ``tenant_name=`` ...) to a KeystoneAuth."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypedDict

from asynccloud.auth.keystone._auth import KeystoneAuth
from asynccloud.auth.keystone._credentials import (
    Credentials,
    StaticToken,
    V1Password,
    V2ApiKey,
    V2Password,
    V2Token,
    V3ApplicationCredential,
    V3Password,
    V3Scope,
    V3Token,
)
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "AUTH_TYPES", "AUTH_VERSIONS", "KeystoneOptions", "auth_version_of", "credentials_from_options",
    "keystone_auth",
]  # fmt: skip

#: Accepted ``auth_version`` values.
AUTH_VERSIONS = ("1.0", "2.0", "3")
#: Accepted ``auth_type`` values (which of them apply depends on the version).
AUTH_TYPES = ("password", "api_key", "application_credential", "token")
_DEFAULT_DOMAIN = "Default"
_VERSION_IN_URL = re.compile(r"/v(1\.0|1|2\.0|3)(?:/(?:auth(?:/tokens)?|tokens)?)?/?$")
_VERSION_ALIASES = {"1": "1.0", "1.0": "1.0", "2": "2.0", "2.0": "2.0", "3": "3", "3.0": "3", "3.x": "3"}


class KeystoneOptions(TypedDict, total=False):
    """The identity keywords every OpenStack driver accepts (besides ``key``/``secret``).

    Attributes:
        auth: An existing :class:`KeystoneAuth` to share (then no other identity keyword is allowed).
        auth_url: The identity service: ``https://keystone:5000/v3``, ``.../v2.0``, ``http://swift/auth/v1.0``.
        auth_version: ``"1.0"``, ``"2.0"`` or ``"3"``; by default read from ``auth_url`` (``/v2.0``...),
            else ``"3"``.
        auth_type: ``"password"`` (default: key = user name, secret = password), ``"api_key"`` (v2 Rackspace:
            secret = API key), ``"application_credential"`` (v3: key = credential id, secret = its secret).
        tenant_name: Project (tenant) to scope to, by name (``project_name`` is the same).
        project_name: Same as ``tenant_name``.
        tenant_id: Project to scope to, by id (``project_id`` is the same).
        project_id: Same as ``tenant_id``.
        domain_name: v3: the domain of the user and of the project, unless given separately (default
            ``"Default"``).
        user_domain_name: v3: the user's domain.
        project_domain_name: v3: the project's domain.
        scope_domain_name: v3: scope the token to this domain instead of a project.
        token: An existing token. With ``endpoint=`` and no ``auth_url`` it is used as is; with ``auth_url``
            it is traded for a scoped token and catalog (v2/v3 ``token`` method).
    """

    auth: KeystoneAuth | None
    auth_url: str | None
    auth_version: str | None
    auth_type: str | None
    tenant_name: str | None
    project_name: str | None
    tenant_id: str | None
    project_id: str | None
    domain_name: str | None
    user_domain_name: str | None
    project_domain_name: str | None
    scope_domain_name: str | None
    token: str | None


def auth_version_of(auth_url: str | None, auth_version: str | None) -> str:
    """Normalize ``auth_version``, or guess it from the URL path (``/v2.0`` -> ``"2.0"``); default ``"3"``."""
    if auth_version is not None:
        version = _VERSION_ALIASES.get(str(auth_version).lower().lstrip("v"))
        if version is None:
            raise ConfigurationError(
                f"auth_version must be one of {', '.join(AUTH_VERSIONS)}; got {auth_version!r}"
            )
        return version
    match = _VERSION_IN_URL.search(auth_url or "")
    return _VERSION_ALIASES[match.group(1)] if match else "3"


def credentials_from_options(
    key: str | None, secret: str | None, *, has_endpoint: bool = False, **kw: Any
) -> Credentials:
    """Build the credentials the keywords describe (see :class:`KeystoneOptions`).

    Args:
        key: User name, tempauth ``account:user``, or application credential id.
        secret: Password, API key, tempauth key, or application credential secret.
        has_endpoint: The driver was given ``endpoint=`` (a bare ``token=`` is then usable as is).
        **kw: The :class:`KeystoneOptions` other than ``auth``.

    Raises:
        ConfigurationError: Missing or contradictory keywords.
    """
    unknown = set(kw) - set(KeystoneOptions.__annotations__)
    if unknown:
        raise ConfigurationError(f"unknown identity option(s): {', '.join(sorted(unknown))}")
    auth_url: str | None = kw.get("auth_url")
    version = auth_version_of(auth_url, kw.get("auth_version"))
    auth_type = kw.get("auth_type") or "password"
    if auth_type not in AUTH_TYPES:
        raise ConfigurationError(f"auth_type must be one of {', '.join(AUTH_TYPES)}; got {auth_type!r}")
    tenant_name = _one_of(kw, "tenant_name", "project_name")
    tenant_id = _one_of(kw, "tenant_id", "project_id")
    token: str | None = kw.get("token")
    if token is not None or auth_type == "token":
        token = token or secret
        if not token:
            raise ConfigurationError("auth_type='token' needs token=")
        if not auth_url:
            if not has_endpoint:
                raise ConfigurationError("token= without auth_url= needs endpoint= (there is no catalog)")
            return StaticToken(token)
        if version == "3":
            return V3Token(token=token, scope=_scope(kw, tenant_name, tenant_id))
        if version == "2.0":
            return V2Token(token, tenant_name=tenant_name, tenant_id=tenant_id)
        raise ConfigurationError("v1.0 auth has no token method: pass endpoint= with token= and no auth_url=")
    if not auth_url:
        raise ConfigurationError(
            "auth_url= is required (the identity service, e.g. https://keystone:5000/v3)"
        )
    if not key or not secret:
        raise ConfigurationError(
            "OpenStack drivers need credentials: Driver(user, password_or_key, auth_url=...), "
            "or token=, or auth= (a shared KeystoneAuth)"
        )
    if version == "1.0":
        _only(auth_type, "password", version)
        return V1Password(key, secret)
    if version == "2.0":
        if auth_type == "api_key":
            return V2ApiKey(key, secret, tenant_name=tenant_name, tenant_id=tenant_id)
        _only(auth_type, "password", version)
        return V2Password(key, secret, tenant_name=tenant_name, tenant_id=tenant_id)
    if auth_type == "application_credential":
        return V3ApplicationCredential(id=key, secret=secret)
    _only(auth_type, "password", version)
    domain = kw.get("domain_name")
    return V3Password(
        username=key,
        password=secret,
        user_domain_name=kw.get("user_domain_name") or domain or _DEFAULT_DOMAIN,
        scope=_scope(kw, tenant_name, tenant_id),
    )


def keystone_auth(
    key: str | None,
    secret: str | None,
    *,
    provider: str,
    http_options: Mapping[str, Any],
    has_endpoint: bool = False,
    **kw: Any,
) -> tuple[KeystoneAuth, bool]:
    """The KeystoneAuth a driver uses, and whether the driver owns it (and must close it).

    Args:
        key: See :func:`credentials_from_options`.
        secret: See :func:`credentials_from_options`.
        provider: Name used in errors and logs.
        http_options: The driver's portable HTTP options (``timeout``, ``retry``, ``transport``, ...).
        has_endpoint: The driver was given ``endpoint=``.
        **kw: The :class:`KeystoneOptions`.

    Returns:
        ``(auth, owned)``: a shared ``auth=`` is returned as is with ``owned=False``.
    """
    shared = kw.pop("auth", None)
    if shared is not None:
        if not isinstance(shared, KeystoneAuth):
            raise ConfigurationError(f"auth= must be a KeystoneAuth, not {type(shared).__name__}")
        given = sorted(k for k, v in kw.items() if v is not None)
        if key is not None or secret is not None or given:
            extra = ", ".join(["key/secret"] * (key is not None or secret is not None) + given)
            raise ConfigurationError(f"auth= is a complete identity; do not also pass {extra}")
        return shared, False
    credentials = credentials_from_options(key, secret, has_endpoint=has_endpoint, **kw)
    return KeystoneAuth(kw.get("auth_url"), credentials, provider=provider, **http_options), True


def _scope(kw: Mapping[str, Any], tenant_name: str | None, tenant_id: str | None) -> V3Scope:
    domain = kw.get("domain_name")
    scope_domain = kw.get("scope_domain_name")
    project_domain = kw.get("project_domain_name") or domain or _DEFAULT_DOMAIN
    return V3Scope(
        project_id=tenant_id,
        project_name=tenant_name,
        project_domain_name=project_domain if tenant_name and not tenant_id else None,
        domain_name=scope_domain,
    )


def _one_of(kw: Mapping[str, Any], a: str, b: str) -> str | None:
    first, second = kw.get(a), kw.get(b)
    if first is not None and second is not None and first != second:
        raise ConfigurationError(f"{a}= and {b}= are the same setting; pass one")
    value = first if first is not None else second
    return str(value) if value is not None else None


def _only(auth_type: str, allowed: str, version: str) -> None:
    if auth_type != allowed:
        raise ConfigurationError(f"auth_type={auth_type!r} is not available with identity v{version}")
