"""Request bodies for parts of large uploads: bytes sent as a plain async iterator of slices.

httpx sends ``bytes`` content through an async generator; a request cancelled mid-body leaves that
generator to the garbage collector (a ``ResourceWarning`` on trio), and httpx keeps the request (and its
body) alive in a reference cycle until the collector runs. :class:`Slices` is a plain iterator that lets go
of its data once sent, so neither happens; :func:`sliced` wraps a part for ``HttpClient.request(content=)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from asynccloud._http import BodyFactory

__all__ = ["SLICE_SIZE", "Slices", "sliced"]

#: Bytes per piece handed to the transport.
SLICE_SIZE: Final = 256 * 1024


class Slices:
    """A body of ``SLICE_SIZE`` pieces of ``data``: a plain async iterator, so nothing needs finalizing.

    It lets go of ``data`` once it has been sent. That matters: httpx keeps the request (and with it
    this body) alive in a response <-> stream reference cycle until the garbage collector runs, which
    would otherwise hold every part uploaded so far and break the memory bound.
    """

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def __aiter__(self) -> Slices:
        return self

    async def __anext__(self) -> bytes:
        start = self._pos
        if start >= len(self._data):
            self._data = b""
            raise StopAsyncIteration
        self._pos = start + SLICE_SIZE
        return self._data[start : start + SLICE_SIZE]


def sliced(data: bytes) -> bytes | BodyFactory:
    """``data`` as request content: as is when small, else a factory of :class:`Slices` (one per attempt).

    A caller sending a factory also sends ``Content-Length`` (else the body goes chunked).
    """
    if len(data) <= SLICE_SIZE:
        return data
    return lambda: Slices(data)
