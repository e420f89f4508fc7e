"""Static large objects: segments uploaded concurrently, the manifest last, segments removed on failure.

The protocol (Swift's ``slo`` middleware): every segment is an ordinary object, here
``<segment container>/<object name>/slo/<upload id>/<00000001...>``, each ``PUT`` with its MD5 as ``ETag`` so
Swift checks it; then the manifest, ``PUT <object>?multipart-manifest=put`` with a JSON list of
``{"path": "/<container>/<segment>", "etag": ..., "size_bytes": ...}``, which Swift validates against the
segments before creating the object (its ``ETag`` is the MD5 of the concatenated segment ETags). Deleting the
object with ``?multipart-manifest=delete`` deletes the segments too.

If anything fails or the upload is cancelled before the manifest exists, every segment that was started is
deleted (shielded from cancellation, under a deadline), so no orphaned segments are left.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio

from asynccloud._streams import StreamHasher, hashed
from asynccloud._transfers import upload_parts
from asynccloud.errors import ConfigurationError, IntegrityError, NotFoundError

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Mapping

    import httpx

    from asynccloud._http import HttpClient

__all__ = ["CLEANUP_TIMEOUT", "Segment", "SloUpload"]

logger = logging.getLogger("asynccloud.openstack")

#: Seconds the clean-up of a failed upload may take before it gives up (and logs what it left behind).
CLEANUP_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Segment:
    """One uploaded segment, as the manifest lists it."""

    path: str
    etag: str
    size_bytes: int

    def manifest_entry(self) -> dict[str, Any]:
        return {"path": self.path, "etag": self.etag, "size_bytes": self.size_bytes}


class SloUpload:
    """One static-large-object upload.

    Args:
        http: The driver's authenticated client.
        account_url: The storage URL (``.../v1/AUTH_x``), no trailing slash.
        segment_container: Where the segments go (created if missing).
        object_name: The large object's name (segments are named after it).
        max_concurrency: Segments in flight at most (memory: ``part_size x max_concurrency``).
        max_segments: The cluster's ``max_manifest_segments`` (1000 by default in Swift).
        provider: The provider's name for errors.
    """

    def __init__(
        self,
        http: HttpClient,
        account_url: str,
        segment_container: str,
        object_name: str,
        *,
        max_concurrency: int,
        max_segments: int,
        provider: str,
    ) -> None:
        self._http = http
        self._account_url = account_url
        self._segment_container = segment_container
        self._max_concurrency = max_concurrency
        self._max_segments = max_segments
        self._provider = provider
        upload_id = f"{time.time():.6f}-{secrets.token_hex(4)}"
        self.prefix = f"{object_name}/slo/{upload_id}/"
        self.started: list[str] = []
        self.hasher = StreamHasher("md5")

    def _segment_url(self, name: str) -> str:
        return f"{self._account_url}/{quote(self._segment_container, safe='')}/{quote(name, safe='/')}"

    async def run(
        self, parts: AsyncIterable[bytes], manifest_url: str, headers: Mapping[str, str]
    ) -> tuple[httpx.Response, list[Segment]]:
        """Upload the segments and then the manifest; clean up on any failure or cancellation.

        Args:
            parts: The object's data, cut into segment-sized parts.
            manifest_url: The large object's URL.
            headers: The object's headers (``Content-Type``, ``X-Object-Meta-*``) for the manifest.

        Returns:
            The manifest ``PUT``'s response and the segments.
        """
        try:
            await self._http.request("PUT", f"{self._account_url}/{quote(self._segment_container, safe='')}")
            segments = await upload_parts(
                hashed(parts, self.hasher), self._put_segment, max_concurrency=self._max_concurrency
            )
            response = await self._put_manifest(manifest_url, headers, segments)
        except BaseException:
            await self.cleanup()
            raise
        return response, segments

    async def _put_segment(self, number: int, data: bytes) -> Segment:
        if number > self._max_segments:
            raise ConfigurationError(
                f"a static large object has at most {self._max_segments} segments here; "
                "pass a larger part_size= for streams this long"
            )
        name = f"{self.prefix}{number:08d}"
        self.started.append(name)  # before the request: a cancelled PUT may still have landed
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        response = await self._http.request(
            "PUT", self._segment_url(name), content=data, headers={"ETag": md5}, ok={422}
        )
        etag = response.headers.get("etag", "").strip('"')
        if response.status_code == 422 or (etag and etag != md5):
            raise IntegrityError(
                f"segment {number} of {self.prefix!r} was corrupted in transit (MD5 mismatch)"
            )
        return Segment(f"/{self._segment_container}/{name}", md5, len(data))

    async def _put_manifest(
        self, url: str, headers: Mapping[str, str], segments: list[Segment]
    ) -> httpx.Response:
        body = json.dumps([s.manifest_entry() for s in segments]).encode()
        response = await self._http.request(
            "PUT", url, params={"multipart-manifest": "put"}, content=body, headers=headers, ok={422}
        )
        expected = hashlib.md5("".join(s.etag for s in segments).encode(), usedforsecurity=False).hexdigest()
        etag = response.headers.get("etag", "").strip('"')
        if response.status_code == 422 or (etag and etag != expected):
            raise IntegrityError(f"the manifest of {self.prefix!r} does not match its segments")
        return response

    async def cleanup(self) -> None:
        """Delete every segment this upload started (shielded from cancellation, ``CLEANUP_TIMEOUT``)."""
        if not self.started:
            return
        names = list(self.started)
        limiter = anyio.Semaphore(self._max_concurrency)
        left: list[str] = []

        async def delete(name: str) -> None:
            async with limiter:
                try:
                    await self._http.request("DELETE", self._segment_url(name))
                except NotFoundError:
                    pass
                except Exception as exc:
                    left.append(name)
                    logger.warning("%s: could not delete segment %r: %s", self._provider, name, exc)

        with anyio.CancelScope(shield=True) as scope:
            scope.deadline = anyio.current_time() + CLEANUP_TIMEOUT
            async with anyio.create_task_group() as tg:
                for name in names:
                    tg.start_soon(delete, name)
        if scope.cancelled_caught or left:
            logger.warning(
                "%s: a failed large upload left segments under %s/%s",
                self._provider,
                self._segment_container,
                self.prefix,
            )
