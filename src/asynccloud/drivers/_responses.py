"""Plumbing for streamed responses shared by the storage drivers."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

__all__ = ["abandon_response"]


async def abandon_response(response: httpx.Response, raw: AsyncIterator[bytes]) -> None:
    """Close a response whose body was not read to the end, and let httpx's stream generators finish.

    ``aclose()`` on the outer generator would leave httpx's nested stream generators suspended until garbage
    collection (a ``ResourceWarning`` on trio). With the connection closed first, reading on fails at once
    (or, for an in-memory body, ends), so every generator of the chain finishes here.
    """
    with anyio.CancelScope(shield=True):
        await response.aclose()
        with contextlib.suppress(Exception):
            async for _ in raw:
                pass
