"""Fixtures of the S3 tests: documented response bodies and an in-memory fake S3 behind respx.

Unit tests fake HTTP at the boundary with respx: :class:`FakeS3` answers like S3 does (status codes,
headers, the XML documents in ``fixtures/``), keeps what it is sent, and lets a test inject failures.
Integration tests use the session's moto servers (``moto_server``, ``moto_auth_server``), defined in
``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote
from xml.etree import ElementTree

import anyio.lowlevel
import httpx
import pytest
import respx

from asynccloud._retry import RetryPolicy
from asynccloud.drivers.aws import S3StorageDriver

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

FIXTURES = Path(__file__).parent / "fixtures"
ENDPOINT = "https://s3.example.test"
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.002)


def fixture_text(name: str, **values: str) -> str:
    """A response body from ``fixtures/``, with ``{placeholders}`` filled in."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def error_response(status: int, code: str, message: str = "an error", **headers: str) -> httpx.Response:
    """An S3 error answer shaped like the documented ``<Error>`` body."""
    body = fixture_text("error.xml", code=code, message=message)
    return httpx.Response(status, headers={"Content-Type": "application/xml", **headers}, text=body)


def make_driver(**options: Any) -> S3StorageDriver:
    """A driver on the fake endpoint (path-style), with fast retries."""
    options.setdefault("endpoint", ENDPOINT)
    options.setdefault("region", "us-east-1")
    options.setdefault("retry", FAST)
    return S3StorageDriver(KEY_ID, SECRET, **options)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@dataclass
class FakeS3:
    """Just enough S3 for the driver's object paths, in memory, on ``https://s3.example.test/<bucket>/<key>``.

    Attributes:
        requests: Every request received, in order.
        objects: ``(bucket, key) -> (data, headers it was stored with)``.
        parts: ``upload id -> {part number: data}`` of uploads in progress.
        aborted: Upload ids that were aborted.
        upload_ids: Upload ids handed out by CreateMultipartUpload.
        override: When set, receives every request instead (it may call :meth:`handle`, and may be async).
        part_hook: Called for each UploadPart before it is stored; may return a response to send instead.
        complete_etag: Overrides the final ETag CompleteMultipartUpload reports.
        complete_body: Overrides the whole CompleteMultipartUpload answer.
    """

    requests: list[httpx.Request] = field(default_factory=list)
    objects: dict[tuple[str, str], tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    parts: dict[str, dict[int, bytes]] = field(default_factory=dict)
    created: list[httpx.Request] = field(default_factory=list)
    upload_ids: list[str] = field(default_factory=list)
    override: Callable[[httpx.Request], Any] | None = None
    aborted: list[str] = field(default_factory=list)
    completed: list[bytes] = field(default_factory=list)
    part_hook: Callable[[httpx.Request, int], httpx.Response | None] | None = None
    complete_etag: str | None = None
    complete_body: str | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        # A real request yields to the event loop (and lets cancellation in); so does this one.
        await anyio.lowlevel.checkpoint()
        if self.override is None:
            return self.handle(request)
        result = self.override(request)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, httpx.Response)
        return result

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` like S3 would."""
        self.requests.append(request)
        bucket, _, raw_key = request.url.path.lstrip("/").partition("/")
        key = unquote(raw_key)
        params = request.url.params
        method = request.method
        if method == "POST" and "uploads" in params:
            self.created.append(request)
            upload_id = uuid.uuid4().hex
            self.parts[upload_id] = {}
            self.upload_ids.append(upload_id)
            body = fixture_text("initiate_multipart.xml").replace(
                "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA", upload_id
            )
            return httpx.Response(200, text=body)
        if method == "PUT" and "partNumber" in params:
            return self._upload_part(request, params["uploadId"], int(params["partNumber"]))
        if method == "POST" and "uploadId" in params:
            return self._complete(request, bucket, key, params["uploadId"])
        if method == "DELETE" and "uploadId" in params:
            self.aborted.append(params["uploadId"])
            self.parts.pop(params["uploadId"], None)
            return httpx.Response(204)
        if method == "PUT":
            data = request.content
            self.objects[(bucket, key)] = (data, dict(request.headers))
            return httpx.Response(200, headers={"ETag": f'"{md5_hex(data)}"'})
        if method in ("GET", "HEAD"):
            stored = self.objects.get((bucket, key))
            if stored is None:
                if method == "HEAD":
                    return httpx.Response(404, headers={"x-amz-request-id": "HEAD404REQ"})
                return error_response(404, "NoSuchKey", "The specified key does not exist.")
            data = stored[0]
            out = {"ETag": f'"{md5_hex(data)}"', "Content-Length": str(len(data))}
            if method == "HEAD":
                return httpx.Response(200, headers=out)
            return httpx.Response(200, headers=out, content=data)
        if method == "DELETE":
            self.objects.pop((bucket, key), None)
            return httpx.Response(204)
        return httpx.Response(400, text="unexpected request")

    def _upload_part(self, request: httpx.Request, upload_id: str, number: int) -> httpx.Response:
        if self.part_hook is not None:
            replaced = self.part_hook(request, number)
            if replaced is not None:
                return replaced
        if upload_id not in self.parts:
            return error_response(404, "NoSuchUpload", "The specified upload does not exist.")
        data = request.content
        self.parts[upload_id][number] = data
        return httpx.Response(200, headers={"ETag": f'"{md5_hex(data)}"'})

    def _complete(self, request: httpx.Request, bucket: str, key: str, upload_id: str) -> httpx.Response:
        self.completed.append(request.content)
        if self.complete_body is not None:
            return httpx.Response(200, text=self.complete_body)
        stored = self.parts.pop(upload_id, None)
        if stored is None:
            return error_response(404, "NoSuchUpload", "The specified upload does not exist.")
        root = ElementTree.fromstring(request.content)
        numbers = [int(p.findtext("{*}PartNumber") or 0) for p in root.findall("{*}Part")]
        for part in root.findall("{*}Part"):
            number = int(part.findtext("{*}PartNumber") or 0)
            if part.findtext("{*}ETag") != f'"{md5_hex(stored[number])}"':
                return error_response(
                    400, "InvalidPart", "One or more of the specified parts could not be found."
                )
        data = b"".join(stored[n] for n in numbers)
        md5s = b"".join(hashlib.md5(stored[n]).digest() for n in numbers)
        etag = self.complete_etag or f"{hashlib.md5(md5s).hexdigest()}-{len(numbers)}"
        self.objects[(bucket, key)] = (data, {})
        return httpx.Response(200, text=fixture_text("complete_multipart.xml", etag=etag))


def query_of(request: httpx.Request) -> dict[str, str]:
    """The decoded query parameters of a request."""
    return dict(request.url.params)


def only(requests: list[httpx.Request], method: str, pattern: str = "") -> list[httpx.Request]:
    """The requests with ``method`` whose URL matches ``pattern``."""
    return [r for r in requests if r.method == method and re.search(pattern, str(r.url))]


@pytest.fixture
def fake_s3() -> Iterator[FakeS3]:
    """A :class:`FakeS3` behind respx for every HTTP request of the test."""
    fake = FakeS3()
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=fake)
        yield fake
