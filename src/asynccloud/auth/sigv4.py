"""AWS Signature Version 4: an :class:`httpx.Auth` flow, URL presigning and the pure building blocks.

The algorithm (AWS General Reference, "Signature Version 4 signing process")::

    canonical request = METHOD \\n canonical URI \\n canonical query \\n canonical headers \\n
                        signed header names \\n payload hash
    string to sign    = AWS4-HMAC-SHA256 \\n amz-date \\n date/region/service/aws4_request \\n
                        hex(sha256(canonical request))
    signing key       = HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request"
    signature         = hex(HMAC(signing key, string to sign))

The pure functions (:func:`canonical_uri`, :func:`canonical_query_string`, :func:`canonical_headers`,
:func:`canonical_request`, :func:`string_to_sign`, :func:`signing_key`, :func:`signature`) take the
*wire* form of a path and query (percent-encoded as sent) and are checked against the published
aws-sig-v4-test-suite vectors and the examples of the S3 documentation.

**Paths.** Every service but S3 normalizes the path (RFC 3986 dot segments, empty segments dropped) and
URI-encodes the wire path once more ("double encoding" relative to the logical path). S3 does neither:
it decodes the wire path and encodes it once. ``s3_mode=True`` selects the S3 rules, and
:class:`SigV4Auth` then sends the path in exactly that single-encoded form (``$`` -> ``%24``, ...).
The pure functions treat the path they are given as the wire form, as the test suite does; so the
suite's ``GET /example space/`` signs ``/example%20space/``, while httpx, which sends
``/example%20space/``, is signed ``/example%2520space/`` outside S3, as AWS services expect.

**Queries.** Pairs are percent-decoded (``+`` counts as a space, the form convention httpx itself uses
for ``params=``), then each name and value is encoded per RFC 3986 (only ``A-Z a-z 0-9 - . _ ~`` stay
literal, space becomes ``%20``) and the pairs are sorted by name, then value. Because ``+`` is
ambiguous on the server side, :class:`SigV4Auth` rewrites the request's query into that unambiguous
encoding (order kept), so what is signed is exactly what is sent.

**Signed headers.** :class:`SigV4Auth` signs ``host``, ``content-type``, ``content-md5`` and every
``x-amz-*`` header present (``x-amz-date``, ``x-amz-content-sha256``, ``x-amz-security-token``,
``x-amz-meta-*``, ...), plus any names given in ``extra_signed_headers`` (e.g. ``range``, ``date``).
Everything else stays unsigned on purpose: ``user-agent``, ``accept-encoding``, ``connection``,
``content-length``, ``transfer-encoding``, ``expect`` and tracing headers may be rewritten by proxies
or the HTTP stack, and signing them would turn a harmless rewrite into a ``SignatureDoesNotMatch``.

**Payload.** The ``x-amz-content-sha256`` value is, in order: a value the caller already set on the
request (e.g. a precomputed hash, or ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``); ``UNSIGNED-PAYLOAD`` when
``unsigned_payload=True``; the hex SHA-256 of the body when its bytes are in memory; ``UNSIGNED-PAYLOAD``
when the body is a stream and ``s3_mode`` is on (S3 accepts it; streams are never buffered). Other
services reject unsigned payloads, so outside S3 mode a streamed body is read into memory first (their
bodies are small JSON/XML documents). The header itself is always sent in S3 mode, and outside it
whenever the payload is unsigned.

Secrets never appear in ``repr``; :class:`SigV4Auth` refuses to be pickled, like its credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote, unquote_to_bytes

import httpx

from asynccloud.auth.aws_credentials import AwsCredentials
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "MAX_PRESIGN_EXPIRES",
    "UNSIGNED_PAYLOAD",
    "SigV4Auth",
    "canonical_headers",
    "canonical_query_string",
    "canonical_request",
    "canonical_uri",
    "credential_scope",
    "presign_url",
    "signature",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600

_ALWAYS_SIGNED = frozenset({"host", "content-type", "content-md5"})
_PRESIGN_PARAMS = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "x-amz-security-token",
        "x-amz-signature",
    }
)
_WHITESPACE_RUN = re.compile(r"[ \t\r\n]+")


# --- pure building blocks -------------------------------------------------------------------------


def _encode(value: str | bytes, *, keep_slash: bool = False) -> str:
    # quote() leaves exactly the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~) plus `safe` literal,
    # encodes text as UTF-8 and writes upper-case hex, which is what SigV4 asks for.
    return quote(value, safe="/" if keep_slash else "")


def _normalize_path(path: str) -> str:
    """Remove ``.``, ``..`` and empty segments (RFC 3986 5.2.4, plus AWS's collapsing of ``//``)."""
    segments: list[str] = []
    parts = path.split("/")
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if segments:
                segments.pop()
            continue
        segments.append(part)
    normalized = "/" + "/".join(segments)
    if segments and parts[-1] in ("", ".", ".."):
        normalized += "/"
    return normalized


def canonical_uri(path: str, *, normalize: bool = True, double_encode: bool = True) -> str:
    """Return the canonical URI of a wire (percent-encoded) path.

    Args:
        path: The path as sent, e.g. ``/my%20key``; an empty path means ``/``.
        normalize: Remove dot and empty segments (every service but S3).
        double_encode: Encode the wire path once more (every service but S3). When false, the path is
            decoded and encoded once (S3).

    Returns:
        The canonical URI.
    """
    path = path or "/"
    if normalize:
        path = _normalize_path(path)
    if double_encode:
        return _encode(path, keep_slash=True)
    return _encode(unquote_to_bytes(path), keep_slash=True)


def _parse_query(query: str) -> list[tuple[bytes, bytes]]:
    pairs: list[tuple[bytes, bytes]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote_to_bytes(name.replace("+", " ")), unquote_to_bytes(value.replace("+", " "))))
    return pairs


def _wire_query(query: str) -> str:
    """Re-encode a wire query unambiguously (``+`` -> ``%20``), keeping order and bare ``?uploads`` names."""
    parts: list[str] = []
    for part in query.split("&"):
        if not part:
            continue
        name, equals, value = part.partition("=")
        encoded = _encode(unquote_to_bytes(name.replace("+", " ")))
        if equals:
            encoded += "=" + _encode(unquote_to_bytes(value.replace("+", " ")))
        parts.append(encoded)
    return "&".join(parts)


def _canonical_query(pairs: Iterable[tuple[str | bytes, str | bytes]]) -> str:
    encoded = sorted((_encode(name), _encode(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_query_string(query: str | Iterable[tuple[str, str]]) -> str:
    """Return the canonical query string.

    Args:
        query: The wire query string (without ``?``; ``+`` means space, a name without ``=`` has an
            empty value), or decoded ``(name, value)`` pairs. Repeated names are all kept.

    Returns:
        ``name=value`` pairs, RFC 3986-encoded, sorted by name then value, joined with ``&``.
    """
    if isinstance(query, str):
        return _canonical_query(_parse_query(query))
    return _canonical_query(query)


def _canonical_value(value: str) -> str:
    if "  " in value or "\t" in value or "\n" in value or "\r" in value:
        return _WHITESPACE_RUN.sub(" ", value).strip()
    return value.strip()  # the usual case: no run to collapse, and no regex to run


def canonical_headers(headers: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """Return the canonical header block and the signed header names.

    Names are lower-cased and sorted; values are trimmed with inner whitespace runs (including folded
    lines) collapsed to one space; repeated headers are joined with ``,`` in their original order.

    Args:
        headers: Every ``(name, value)`` to sign.

    Returns:
        ``(block, signed_headers)``: each ``name:value`` line ending in a newline, and the names
        joined with ``;``.
    """
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.strip().lower(), []).append(_canonical_value(value))
    names = sorted(merged)
    block = "".join(f"{name}:{','.join(merged[name])}\n" for name in names)
    return block, ";".join(names)


def canonical_request(
    method: str,
    path: str,
    query: str | Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    payload_hash: str,
    *,
    normalize_path: bool = True,
    double_encode: bool = True,
) -> str:
    """Return the canonical request.

    Args:
        method: The HTTP method.
        path: The wire path (see :func:`canonical_uri`).
        query: The wire query string or decoded pairs (see :func:`canonical_query_string`).
        headers: The headers to sign (all of them are signed).
        payload_hash: Hex SHA-256 of the body, or ``UNSIGNED-PAYLOAD``.
        normalize_path: Normalize the path (false for S3).
        double_encode: Encode the wire path again (false for S3).

    Returns:
        The canonical request text.
    """
    block, signed = canonical_headers(headers)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path, normalize=normalize_path, double_encode=double_encode),
            canonical_query_string(query),
            block,
            signed,
            payload_hash,
        ]
    )


def credential_scope(date: str, region: str, service: str) -> str:
    """Return ``date/region/service/aws4_request`` (``date`` as ``YYYYMMDD``)."""
    return f"{date}/{region}/{service}/aws4_request"


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    """Return the string to sign.

    Args:
        amz_date: The request time as ``YYYYMMDDTHHMMSSZ``.
        scope: The credential scope (see :func:`credential_scope`).
        canonical: The canonical request.

    Returns:
        The string to sign.
    """
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode("utf-8"), "sha256")


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """Derive the signing key for one day, region and service.

    Args:
        secret: The secret access key.
        date: The day as ``YYYYMMDD``.
        region: The region, e.g. ``us-east-1``.
        service: The service name, e.g. ``s3``.

    Returns:
        The 32-byte signing key.
    """
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def signature(key: bytes, to_sign: str) -> str:
    """Return the hex HMAC-SHA256 of the string to sign under the signing key."""
    return hmac.digest(key, to_sign.encode("utf-8"), "sha256").hex()


def _timestamps(moment: datetime) -> tuple[str, str]:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigurationError("SigV4 needs a timezone-aware time (e.g. datetime.now(UTC))")
    u = moment.astimezone(UTC)
    date = f"{u.year:04d}{u.month:02d}{u.day:02d}"  # strftime, twice per request, cost more than signing
    return f"{date}T{u.hour:02d}{u.minute:02d}{u.second:02d}Z", date


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_scope(credentials: object, region: object, service: object) -> AwsCredentials:
    if not isinstance(credentials, AwsCredentials):
        raise ConfigurationError("SigV4 needs an AwsCredentials instance as credentials")
    if not isinstance(region, str) or not region or "/" in region:
        raise ConfigurationError("SigV4 needs a non-empty region without '/'")
    if not isinstance(service, str) or not service or "/" in service:
        raise ConfigurationError("SigV4 needs a non-empty service name without '/'")
    return credentials


def _split_raw_path(url: httpx.URL) -> tuple[str, str]:
    path, _, query = url.raw_path.decode("ascii").partition("?")
    return path, query


# --- the httpx auth flow --------------------------------------------------------------------------


class SigV4Auth(httpx.Auth):
    """Sign each request with AWS Signature Version 4 (``Authorization`` header).

    The request is signed every time it is sent, so retries carry a fresh ``x-amz-date``. The
    signing key is derived once per day and cached on the instance.

    Args:
        credentials: The credentials to sign with.
        region: The signing region (any string: no allow-list).
        service: The signing service name (``s3``, ``ec2``, ``route53``, ...).
        s3_mode: Use the S3 rules: no path normalization, single path encoding, always send
            ``x-amz-content-sha256``, sign streamed bodies as ``UNSIGNED-PAYLOAD``.
        normalize_path: Override the path normalization implied by ``s3_mode``.
        unsigned_payload: Always sign ``UNSIGNED-PAYLOAD`` instead of hashing the body.
        extra_signed_headers: Header names to sign in addition to the default set (see module doc).
        now: The clock, returning an aware :class:`~datetime.datetime` (tests inject a fixed one).

    Raises:
        ConfigurationError: If the credentials, region or service are unusable.
    """

    def __init__(
        self,
        credentials: AwsCredentials,
        region: str,
        service: str,
        *,
        s3_mode: bool = False,
        normalize_path: bool | None = None,
        unsigned_payload: bool = False,
        extra_signed_headers: Iterable[str] = (),
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._credentials = _check_scope(credentials, region, service)
        self.region = region
        self.service = service
        self.s3_mode = s3_mode
        self.normalize_path = (not s3_mode) if normalize_path is None else normalize_path
        self.unsigned_payload = unsigned_payload
        self.extra_signed_headers = frozenset(name.strip().lower() for name in extra_signed_headers)
        self._now = now or _utcnow
        self._cached_key: tuple[str, bytes] | None = None

    @property
    def credentials(self) -> AwsCredentials:
        """The credentials this flow signs with."""
        return self._credentials

    def __repr__(self) -> str:
        return (
            f"SigV4Auth(credentials={self._credentials!r}, region={self.region!r}, "
            f"service={self.service!r}, s3_mode={self.s3_mode!r})"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("SigV4Auth cannot be pickled: it holds AWS credentials and a derived signing key")

    def __copy__(self) -> SigV4Auth:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SigV4Auth:
        return self

    # httpx calls these two; each makes the body available when it must be hashed, then signs.
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._needs_body(request):
            request.read()
        self.sign(request)
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._needs_body(request):
            await request.aread()
        self.sign(request)
        yield request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def _needs_body(self, request: httpx.Request) -> bool:
        return (
            not self.s3_mode
            and not self.unsigned_payload
            and "x-amz-content-sha256" not in request.headers
            and _body(request) is None
        )

    def _payload_hash(self, request: httpx.Request) -> str:
        preset: str | None = request.headers.get("x-amz-content-sha256")
        if preset:
            return preset
        if self.unsigned_payload:
            return UNSIGNED_PAYLOAD
        body = _body(request)
        if body is not None:
            return hashlib.sha256(body).hexdigest()
        if self.s3_mode:
            return UNSIGNED_PAYLOAD
        raise ConfigurationError(
            "the request body is an unread stream: read it first, or sign it with unsigned_payload=True"
        )

    def _signing_key(self, date: str) -> bytes:
        cached = self._cached_key
        if cached is not None and cached[0] == date:
            return cached[1]
        key = signing_key(self._credentials.secret_access_key, date, self.region, self.service)
        self._cached_key = (date, key)
        return key

    def _should_sign(self, name: str) -> bool:
        return name in _ALWAYS_SIGNED or name.startswith("x-amz-") or name in self.extra_signed_headers

    def sign(self, request: httpx.Request) -> None:
        """Sign ``request`` in place: set the ``x-amz-*`` headers and ``Authorization``.

        Outside S3 mode a streamed body must have been read already (the httpx flows do it).

        Args:
            request: The request to sign.

        Raises:
            ConfigurationError: If the body must be hashed but is an unread stream, or the clock
                returned a naive datetime.
        """
        amz_date, date = _timestamps(self._now())
        headers = request.headers
        headers["x-amz-date"] = amz_date
        token = self._credentials.session_token
        if token:
            headers["x-amz-security-token"] = token
        payload_hash = self._payload_hash(request)
        if self.s3_mode or payload_hash == UNSIGNED_PAYLOAD:
            headers["x-amz-content-sha256"] = payload_hash
        if "host" not in headers:
            headers["host"] = request.url.netloc.decode("ascii")

        path, raw_query = _split_raw_path(request.url)
        pairs = _parse_query(raw_query)
        wire_path = path or "/"
        if not self.s3_mode:
            uri = canonical_uri(wire_path, normalize=self.normalize_path, double_encode=True)
        else:
            # S3 decodes the path before re-encoding it: send exactly the single-encoded form we sign.
            uri = canonical_uri(wire_path, normalize=self.normalize_path, double_encode=False)
            wire_path = uri
        wire_query = _wire_query(raw_query)
        new_raw = wire_path + (f"?{wire_query}" if wire_query else "")
        if new_raw.encode("ascii") != request.url.raw_path:
            request.url = request.url.copy_with(raw_path=new_raw.encode("ascii"))

        block, signed = canonical_headers(
            (name, value) for name, value in headers.multi_items() if self._should_sign(name)
        )
        canonical = "\n".join(
            [request.method.upper(), uri, _canonical_query(pairs), block, signed, payload_hash]
        )
        scope = credential_scope(date, self.region, self.service)
        sig = signature(self._signing_key(date), string_to_sign(amz_date, scope, canonical))
        headers["authorization"] = (
            f"{ALGORITHM} Credential={self._credentials.access_key_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={sig}"
        )


def _body(request: httpx.Request) -> bytes | None:
    try:
        return request.content
    except httpx.RequestNotRead:
        return None


# --- presigned URLs -------------------------------------------------------------------------------


def presign_url(
    method: str,
    url: str,
    *,
    credentials: AwsCredentials,
    region: str,
    service: str,
    expires: int = 3600,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
    s3_mode: bool = True,
) -> str:
    """Return ``url`` presigned with query-string authentication (``X-Amz-Signature``).

    The payload is ``UNSIGNED-PAYLOAD`` in S3 mode and the hash of an empty body otherwise. A session
    token is sent as ``X-Amz-Security-Token`` and is part of the signed query. The result carries
    the existing query parameters and the ``X-Amz-*`` ones, RFC 3986-encoded and sorted, with
    ``X-Amz-Signature`` last; any fragment is dropped.

    Args:
        method: The HTTP method the URL is for (``GET``, ``PUT``, ``DELETE``, ``HEAD``, ...).
        url: The absolute URL to sign.
        credentials: The credentials to sign with.
        region: The signing region.
        service: The signing service (``s3`` for S3).
        expires: Validity in seconds, from 1 to 604800 (7 days).
        headers: Headers the user of the URL must send with exactly these values (e.g.
            ``content-type`` for a PUT); they are signed together with ``host``.
        now: The signing time (aware); defaults to the current time.
        s3_mode: Use the S3 path rules and ``UNSIGNED-PAYLOAD``.

    Returns:
        The presigned URL.

    Raises:
        ConfigurationError: If ``expires`` is out of range, the URL is not absolute or already
            presigned, or the credentials, region, service, method or time are unusable.
    """
    creds = _check_scope(credentials, region, service)
    if isinstance(expires, bool) or not isinstance(expires, int) or not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise ConfigurationError(f"expires must be an integer from 1 to {MAX_PRESIGN_EXPIRES} seconds")
    if not isinstance(method, str) or not method.strip() or not method.strip().isalpha():
        raise ConfigurationError("method must be an HTTP method name such as GET or PUT")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"cannot presign an invalid URL: {exc}") from None
    if not parsed.is_absolute_url or not parsed.host:
        raise ConfigurationError("presign_url needs an absolute URL with a host")
    amz_date, date = _timestamps(now if now is not None else _utcnow())

    netloc = parsed.netloc.decode("ascii")
    path, raw_query = _split_raw_path(parsed)
    pairs = _parse_query(raw_query)
    if any(name.decode("utf-8", "replace").lower() in _PRESIGN_PARAMS for name, _ in pairs):
        raise ConfigurationError("the URL already carries X-Amz-* authentication parameters")

    signed_items = {"host": netloc}
    for name, value in (headers or {}).items():
        signed_items[name.strip().lower()] = value
    block, signed = canonical_headers(signed_items.items())

    scope = credential_scope(date, region, service)
    auth_pairs: list[tuple[str | bytes, str | bytes]] = [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{creds.access_key_id}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", signed),
    ]
    if creds.session_token:
        auth_pairs.append(("X-Amz-Security-Token", creds.session_token))
    query = _canonical_query([*pairs, *auth_pairs])

    uri = canonical_uri(path, normalize=not s3_mode, double_encode=not s3_mode)
    payload = UNSIGNED_PAYLOAD if s3_mode else EMPTY_SHA256
    canonical = "\n".join([method.strip().upper(), uri, query, block, signed, payload])
    sig = signature(
        signing_key(creds.secret_access_key, date, region, service),
        string_to_sign(amz_date, scope, canonical),
    )
    wire_path = uri if s3_mode else (path or "/")
    return f"{parsed.scheme}://{netloc}{wire_path}?{query}&X-Amz-Signature={sig}"
