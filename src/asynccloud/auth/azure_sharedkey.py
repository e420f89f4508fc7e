"""Azure Storage Shared Key authorization (an ``httpx.Auth``) and service SAS URLs for blobs.

Shared Key (Azure Storage REST reference, "Authorize with Shared Key"): every request carries ``x-ms-date``
and ``x-ms-version`` and ``Authorization: SharedKey <account>:<signature>``, the signature being the
base64 HMAC-SHA256, under the base64-decoded account key, of::

    VERB \\n Content-Encoding \\n Content-Language \\n Content-Length (empty for 0) \\n Content-MD5 \\n
    Content-Type \\n Date \\n If-Modified-Since \\n If-Match \\n If-None-Match \\n If-Unmodified-Since \\n
    Range \\n CanonicalizedHeaders CanonicalizedResource

``CanonicalizedHeaders``: every ``x-ms-*`` header, lower-cased, sorted, ``name:value\\n`` (value trimmed).
``CanonicalizedResource``: ``/<account><encoded URI path>``, then for each query parameter sorted by
lower-cased name ``\\n<name>:<values, comma-joined>`` (decoded). With a path-style endpoint (the emulator's
``/devstoreaccount1/...``) the path already holds the account, which then appears twice, as the service
wants.

A service SAS (version 2020-12-06 layout) signs, one per line: permissions, start, expiry,
``/blob/<account>/<container>/<blob>``, identifier, IP, protocol, version, resource, snapshot time,
encryption scope, and the five response-header overrides (rscc, rscd, rsce, rscl, rsct).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, quote, urlencode

import httpx

from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Generator

__all__ = ["API_VERSION", "SharedKeyAuth", "blob_sas_query", "string_to_sign"]

#: The Blob service REST version every request states (``x-ms-version``).
API_VERSION: Final = "2021-08-06"
_STANDARD: Final = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def decode_key(account_key: str) -> bytes:
    """The raw bytes of a base64 account key; ``ConfigurationError`` (without the key) if it is not base64."""
    try:
        raw = base64.b64decode(account_key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw:
        raise ConfigurationError(
            "the Azure account key must be the base64 key from the portal or the emulator"
        )
    return raw


def _canonical_resource(account: str, url: httpx.URL) -> str:
    path = url.raw_path.split(b"?", 1)[0].decode("ascii") or "/"
    resource = f"/{account}{path}"
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(url.query.decode("ascii"), keep_blank_values=True):
        params.setdefault(name.lower(), []).append(value)
    for name in sorted(params):
        resource += f"\n{name}:{','.join(sorted(params[name]))}"
    return resource


def string_to_sign(request: httpx.Request, account: str) -> str:
    """The Shared Key string to sign for ``request`` (``x-ms-date``/``x-ms-version`` already set)."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    standard = [headers.get(name, "") for name in _STANDARD]
    if standard[2] == "0":
        standard[2] = ""  # Content-Length 0 is signed as empty (versions 2015-02-21 and later)
    ms = sorted(
        (name, " ".join(value.split())) for name, value in headers.items() if name.startswith("x-ms-")
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in ms)
    return (
        "\n".join([request.method.upper(), *standard])
        + "\n"
        + canonical_headers
        + _canonical_resource(account, request.url)
    )


class SharedKeyAuth(httpx.Auth):
    """Signs each request (each retry afresh) with the storage account's key.

    Args:
        account_name: The storage account.
        account_key: Its base64 key (kept private: never in ``repr``, pickles or errors).
        version: The ``x-ms-version`` to state.
    """

    requires_request_body = False

    def __init__(self, account_name: str, account_key: str, *, version: str = API_VERSION) -> None:
        if not account_name or not isinstance(account_name, str):
            raise ConfigurationError("an Azure storage account name is required")
        self.account_name = account_name
        self._key = decode_key(account_key)
        self.version = version

    def __repr__(self) -> str:
        return f"SharedKeyAuth(account_name={self.account_name!r})"

    def __reduce__(self) -> str:
        raise TypeError("SharedKeyAuth holds an account key and cannot be pickled")

    def sign(self, request: httpx.Request) -> None:
        """Set ``x-ms-date``, ``x-ms-version`` and ``Authorization`` on ``request``."""
        request.headers["x-ms-date"] = format_datetime(datetime.now(UTC), usegmt=True)
        request.headers["x-ms-version"] = self.version
        text = string_to_sign(request, self.account_name)
        digest = hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).digest()
        request.headers["Authorization"] = (
            f"SharedKey {self.account_name}:{base64.b64encode(digest).decode()}"
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def blob_sas(
        self, container: str, blob: str, *, permissions: str, expiry: datetime, version: str = "2020-12-06"
    ) -> str:
        """The query string of a service SAS for one blob (see :func:`blob_sas_query`)."""
        return blob_sas_query(
            self.account_name,
            self._key,
            container,
            blob,
            permissions=permissions,
            expiry=expiry,
            version=version,
        )


def blob_sas_query(
    account: str,
    key: bytes,
    container: str,
    blob: str,
    *,
    permissions: str,
    expiry: datetime,
    version: str = "2020-12-06",
) -> str:
    """A service SAS granting ``permissions`` (e.g. ``"r"``) on one blob until ``expiry`` (aware datetime)."""
    if expiry.tzinfo is None:
        raise ConfigurationError("the SAS expiry must be a timezone-aware datetime")
    se = expiry.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    resource = f"/blob/{account}/{container}/{blob}"
    fields = [permissions, "", se, resource, "", "", "https,http", version, "b", "", "", "", "", "", "", ""]
    digest = hmac.new(key, "\n".join(fields).encode("utf-8"), hashlib.sha256).digest()
    query = {"sv": version, "sr": "b", "sp": permissions, "se": se, "spr": "https,http"}
    query["sig"] = base64.b64encode(digest).decode()
    return urlencode(query, quote_via=quote)
