"""Swift temporary URLs (the ``tempurl`` middleware): HMAC signatures over method, expiry and object path.

Per the middleware's documentation, the signed text is ``"<METHOD>\\n<expires>\\n<path>"`` where ``path`` is
the full object path from ``/v1/`` on, **not** percent-encoded (``/v1/AUTH_account/container/object``), and
``expires`` a Unix time. HMAC-SHA1 and HMAC-SHA256 signatures are sent as lower-case hex (the digest is told
by the length); HMAC-SHA512 must be sent as ``sha512:`` + URL-safe base64. The URL is the object's URL with
``temp_url_sig`` and ``temp_url_expires`` added.
"""

from __future__ import annotations

import base64
import hmac
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from asynccloud.errors import ConfigurationError

__all__ = ["DIGESTS", "METHODS", "temp_url", "temp_url_signature"]

#: Digests the middleware accepts (``sha1`` is deprecated upstream but still what Rackspace Cloud Files uses).
DIGESTS: Final = ("sha1", "sha256", "sha512")
#: Methods a temporary URL may allow (HEAD is allowed by any of GET, PUT, POST).
METHODS: Final = ("GET", "HEAD", "PUT", "POST", "DELETE")


def temp_url_signature(key: str, method: str, expires: int, path: str, digest: str = "sha256") -> str:
    """The ``temp_url_sig`` value.

    Args:
        key: The account's (or container's) ``Temp-URL-Key``.
        method: The HTTP method the URL allows.
        expires: Unix time after which the URL is refused.
        path: The object's path, ``/v1/<account>/<container>/<object>``, not percent-encoded.
        digest: ``"sha1"``, ``"sha256"`` (default) or ``"sha512"``.

    Raises:
        ConfigurationError: Unknown digest or method.
    """
    if digest not in DIGESTS:
        raise ConfigurationError(f"temp URL digest must be one of {', '.join(DIGESTS)}; got {digest!r}")
    if method not in METHODS:
        raise ConfigurationError(f"temp URL method must be one of {', '.join(METHODS)}; got {method!r}")
    mac = hmac.new(key.encode(), f"{method}\n{expires}\n{path}".encode(), digest)
    if digest == "sha512":
        return "sha512:" + base64.urlsafe_b64encode(mac.digest()).decode("ascii")
    return mac.hexdigest()


def temp_url(object_url: str, key: str, method: str, expires: int, digest: str = "sha256") -> str:
    """Sign an object URL (``https://host/v1/AUTH_a/c/o``, percent-encoded as it is sent).

    Args:
        object_url: The object's URL.
        key: The ``Temp-URL-Key``.
        method: The HTTP method the URL allows.
        expires: Unix time after which the URL is refused.
        digest: See :func:`temp_url_signature`.

    Returns:
        The URL with ``temp_url_sig`` and ``temp_url_expires``.
    """
    path = unquote(urlsplit(object_url).path)
    signature = temp_url_signature(key, method, expires, path, digest)
    return f"{object_url}?temp_url_sig={quote(signature, safe='')}&temp_url_expires={expires}"
