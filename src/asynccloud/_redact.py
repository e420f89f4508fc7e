"""Redaction of credentials in everything asynccloud logs or puts in an exception message.

Used by the request pipeline (:mod:`asynccloud._http`) and by auth flows that keep tokens out of messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["REDACTED", "redact_headers", "redact_text", "redact_url", "url_secret_values"]

#: What redacted values are replaced with.
REDACTED: Final = "***"

_SECRET_HEADERS: Final = frozenset({
    "authorization", "proxy-authorization", "x-auth-token", "x-auth-key", "x-subject-token",
    "x-storage-token", "x-amz-security-token", "cookie", "set-cookie",
})  # fmt: skip
# Provider-specific spellings of the same idea (x-goog-api-key, x-amz-...-customer-key, x-ms-...-secret,
# Swift's x-account-meta-temp-url-key).
_SECRET_HEADER_MARKERS: Final = (
    "token",
    "secret",
    "password",
    "signature",
    "api-key",
    "apikey",
    "customer-key",
    "temp-url-key",
)
_SECRET_PARAMS: Final = frozenset({
    "x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "sig", "temp_url_sig",
    "token", "access_token", "key", "password", "api_key", "apikey",
})  # fmt: skip
# Catches e.g. X-Goog-Signature, X-Goog-Credential, refresh_token, client_secret.
_SECRET_PARAM_MARKERS: Final = ("signature", "token", "secret", "password", "credential")
# URL parts shorter than this are not worth hiding in free text (and would garble it).
_MIN_SECRET_LEN: Final = 4


def _is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_HEADERS or any(m in lowered for m in _SECRET_HEADER_MARKERS)


def _is_secret_param(name: str) -> bool:
    lowered = unquote_plus(name).lower()
    return lowered in _SECRET_PARAMS or any(m in lowered for m in _SECRET_PARAM_MARKERS)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every literal occurrence of each secret (raw or percent-encoded) with ``***``.

    Args:
        text: Any text about to be logged or put in an exception message.
        secrets: Literal strings that must never be shown (keys, passwords, tokens).

    Returns:
        The text with the secrets replaced.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, REDACTED)
    return text


def url_secret_values(url: str) -> list[str]:
    """The literal secret parts of a URL (password, values of secret-looking query parameters)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password and len(parts.password) >= _MIN_SECRET_LEN else []
    for pair in parts.query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and len(value) >= _MIN_SECRET_LEN and _is_secret_param(name):
            found.append(value)
    return found


def redact_url(url: str | httpx.URL, secrets: Iterable[str] = ()) -> str:
    """Render a URL for logs and messages with its secrets replaced by ``***``.

    Hides the userinfo password, the values of query parameters whose names look secret (``X-Amz-Signature``,
    ``sig``, ``temp_url_sig``, ``token``, ``key``, ... case-insensitive) and any literal ``secrets``.

    Args:
        url: The URL.
        secrets: Extra literal strings to hide wherever they appear.

    Returns:
        The redacted URL text.
    """
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return redact_text(text, secrets)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, _password = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{hostport}" if sep else netloc
    query = parts.query
    if query:
        pairs = []
        for pair in query.split("&"):
            name, sep, value = pair.partition("=")
            pairs.append(f"{name}={REDACTED}" if sep and value and _is_secret_param(name) else pair)
        query = "&".join(pairs)
    rebuilt = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return redact_text(rebuilt, secrets)


def redact_headers(headers: httpx.Headers | Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """Copy headers for logging with credential-bearing values replaced by ``***``.

    Args:
        headers: Request or response headers.
        secrets: Extra literal strings to hide in any header value.

    Returns:
        A new ``{name: value}`` dict (repeated headers are joined with ``", "``).
    """
    secrets = tuple(secrets)
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else list(headers.items())
    out: dict[str, str] = {}
    for name, value in items:
        shown = REDACTED if _is_secret_header(name) else redact_text(value, secrets)
        out[name] = f"{out[name]}, {shown}" if name in out else shown
    return out
