"""Large transfers: uploading a stream as numbered parts, concurrently, under a memory bound.

Shared by every provider whose big-object API is "upload parts, then commit a manifest" (S3 multipart,
Swift static large objects, Azure block lists, GCS compose). A driver supplies the per-part coroutine and
does the commit and the abort; this module owns the concurrency and the memory bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import anyio

from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable

__all__ = ["FirstPart", "first_part", "upload_parts"]

R = TypeVar("R")

#: After a part failed, how long the parts in flight may take to finish before they are cancelled (s).
SETTLE_TIMEOUT = 2.0


@dataclass
class FirstPart:
    """The first part of a stream, and whether more follows (so the caller picks single PUT or multipart)."""

    data: bytes
    more: bool
    rest: AsyncIterator[bytes]


async def first_part(parts: AsyncIterable[bytes]) -> FirstPart:
    """Read the first part of a stream already cut into parts, and look ahead one part.

    ``rest`` yields the remaining parts (the looked-ahead one first). At most two parts are held at once.
    """
    iterator = aiter(parts)
    first = await anext(iterator, b"")
    second = await anext(iterator, None)

    async def rest() -> AsyncIterator[bytes]:
        try:
            if second is not None:
                yield second
                async for part in iterator:
                    yield part
        finally:
            await _aclose(iterator)

    return FirstPart(first, second is not None, rest())


async def _aclose(iterator: object) -> None:
    closer = getattr(iterator, "aclose", None)
    if closer is not None:
        with anyio.CancelScope(shield=True):
            await closer()


async def upload_parts(
    parts: AsyncIterable[bytes],
    upload_part: Callable[[int, bytes], Awaitable[R]],
    *,
    max_concurrency: int,
    first_number: int = 1,
    settle: float = SETTLE_TIMEOUT,
) -> list[R]:
    """Upload each part of a stream with ``upload_part(number, data)``, up to ``max_concurrency`` at once.

    A part is read from ``parts`` only once a slot is free, so at most ``max_concurrency`` parts are held
    in memory whatever the stream's length. The first failure stops reading; the parts already in flight
    get up to ``settle`` seconds to finish (so that the caller's clean-up knows what landed: a request
    cancelled mid-flight may still be carried out by the server after the clean-up ran), then whatever is
    left is cancelled, and the first failure is raised as itself (not wrapped in an exception group). The
    caller aborts the upload on the provider's side. Cancellation from outside stops everything at once.

    Args:
        parts: The data, already cut into parts (e.g. ``iter_source(source, part_size)``).
        upload_part: Uploads one part; its result (ETag, segment record, ...) is collected.
        max_concurrency: Parts in flight at most.
        first_number: The number given to the first part (S3 and Swift count from 1).
        settle: Longest wait, after a failure, for the parts in flight to finish before they are cancelled.

    Returns:
        The results of ``upload_part``, in part order.
    """
    if max_concurrency < 1:
        raise ConfigurationError(f"max_concurrency must be >= 1, got {max_concurrency}")
    results: dict[int, R] = {}
    errors: list[Exception] = []
    limiter = anyio.Semaphore(max_concurrency)

    async def run(number: int, data: bytes) -> None:
        try:
            results[number] = await upload_part(number, data)
        except Exception as exc:  # kept, and raised once the parts in flight settled
            errors.append(exc)
        finally:
            limiter.release()

    iterator = aiter(parts)
    try:
        async with anyio.create_task_group() as tg:
            number = first_number
            while not errors:
                await limiter.acquire()
                data = None if errors else await anext(iterator, None)
                if data is None:
                    limiter.release()
                    break
                tg.start_soon(run, number, data)
                # Only the task may hold the part: kept here, it would outlive its upload while the next
                # part is read, one part more than the bound.
                del data
                number += 1
            if errors:
                with anyio.move_on_after(settle):
                    for _ in range(max_concurrency):  # every slot free: nothing in flight any more
                        await limiter.acquire()
                tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise _first_error(group) from None
    finally:
        await _aclose(iterator)
    if errors:
        raise errors[0]
    return [results[n] for n in sorted(results)]


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf that is not a cancellation (cancellations are consequences, not causes)."""
    cancelled = anyio.get_cancelled_exc_class()
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    for leaf in leaves:
        if not isinstance(leaf, cancelled):
            return leaf
    return leaves[0] if leaves else group
