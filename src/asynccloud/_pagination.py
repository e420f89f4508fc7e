"""Pages to async iterators: one generic loop, plus one small helper per paging style providers use.

A driver's ``iterate_*`` states only "how to fetch one page" and lets a helper decide when to stop, so no
listing silently stops at the first page. A Swift container listing (``marker`` = name of the last item)::

    async def iterate_container_objects(self, container: Container) -> AsyncIterator[Object]:
        async def fetch(marker: str | None, page_size: int) -> list[dict[str, Any]]:
            params = {"format": "json", "limit": page_size, "marker": marker}
            return (await self._http.request("GET", f"/{container.name}", params=params)).json()

        async for raw in marker_pages(fetch, key=lambda raw: raw["name"], page_size=10_000):
            yield self._to_object(raw, container)

The styles (what ``fetch`` returns, and who uses it):

* :func:`marker_pages`: the items; the next marker is the key of the last item (Swift, Rackspace).
* :func:`token_pages`: ``(items, next_token)`` (S3 ``NextContinuationToken``, EC2 ``NextToken``).
* :func:`link_pages`: ``(items, next_url)``, see :func:`next_link` (OpenStack ``servers_links``,
  Glance ``next``, RFC 8288 ``Link`` headers).
* :func:`offset_pages`: ``(items, total)`` for ``limit``/``offset`` paging (Rackspace Cloud DNS).
* :func:`page_number_pages`: ``(items, total_pages)`` for ``?page=1,2,...`` paging.
* :func:`paginate`: a :class:`Page`; the core the others build on, for anything else.

Every helper takes ``limit`` (stop after that many items, without fetching a further page) and
``provider`` (named in errors). A provider that hands back a cursor it already gave (which would loop
forever) makes the iteration raise :class:`~asynccloud.errors.ProviderError` ("pagination did not
advance").

The helpers return a :class:`Paginator`, a plain async iterator: a driver's ``iterate_*`` generator may
stop iterating it half-way without leaving anything to clean up. That generator itself, though, is an
async generator: ``async for ...: break`` leaves it suspended until the garbage collector finalizes it
(trio warns about that). Code that stops early should iterate inside
``async with contextlib.aclosing(driver.iterate_nodes()) as nodes:``; :func:`collect` does so.
"""

from __future__ import annotations

import reprlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from asynccloud.errors import ConfigurationError, ProviderError

__all__ = [
    "Page",
    "Paginator",
    "collect",
    "link_pages",
    "marker_pages",
    "next_link",
    "offset_pages",
    "page_number_pages",
    "paginate",
    "token_pages",
]

T = TypeVar("T")
C = TypeVar("C")

_NO_ITEM: Any = object()  # what next() returns when the page in hand is used up
_cursor_repr = reprlib.Repr()
_cursor_repr.maxstring = 60
_cursor_repr.maxother = 60


@dataclass(frozen=True)
class Page(Generic[T, C]):
    """One page of a listing.

    Attributes:
        items: The page's items, in order.
        next: What to pass to ``fetch`` for the following page; ``None`` on the last page.
    """

    items: Sequence[T]
    next: C | None = None


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ConfigurationError(f"limit must be a non-negative int or None, got {limit!r}")


def _check_page_size(page_size: int) -> None:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size <= 0:
        raise ConfigurationError(f"page_size must be a positive int, got {page_size!r}")


def paginate(
    fetch: Callable[[C | None], Awaitable[Page[T, C]]],
    *,
    first: C | None = None,
    limit: int | None = None,
    provider: str | None = None,
) -> Paginator[T]:
    """Iterate over the items of every page, fetching each page only when the previous one is used up.

    Args:
        fetch: Returns the page for a cursor; called with ``first`` for the first page, then with each
            page's ``next`` until one is ``None``.
        first: The cursor of the first page.
        limit: Stop after this many items (``0`` fetches nothing); ``None`` for all.
        provider: The provider's name, for error messages.

    Returns:
        An async iterator of the items.

    Raises:
        ConfigurationError: ``limit`` is invalid (checked at the call).
        ProviderError: While iterating, a page returned a cursor that was already used.
    """
    _check_limit(limit)
    return Paginator(fetch, first=first, limit=limit, provider=provider)


class Paginator(AsyncIterator[T], Generic[T]):
    """The async iterator :func:`paginate` and the style helpers return.

    A plain object rather than an async generator: abandoning it half-way (``break``, an exception in the
    consumer) leaves nothing to finalize, so a driver may write ``async for raw in marker_pages(...):
    yield ...`` inside its own ``iterate_*`` generator without wrapping it in ``aclosing``. Like a
    generator it is single-use, ends for good after an error, and refuses concurrent ``__anext__`` calls.
    :meth:`aclose` exists so it can be handled like one.
    """

    __slots__ = (
        "_count",
        "_cursor",
        "_done",
        "_fetch",
        "_items",
        "_limit",
        "_next",
        "_provider",
        "_running",
        "_seen",
        "_started",
    )

    def __init__(
        self,
        fetch: Callable[[Any], Awaitable[Page[T, Any]]],
        *,
        first: Any = None,
        limit: int | None = None,
        provider: str | None = None,
    ) -> None:
        self._fetch = fetch
        self._limit = limit
        self._provider = provider
        self._count = 0
        self._items: Iterator[T] = iter(())
        self._cursor: Any = first  # the cursor of the page being iterated
        self._next: Any = first  # the cursor of the page to fetch next; None after the last page
        self._started = False
        self._done = limit == 0
        self._running = False
        self._seen: set[Any] = set()
        if first is not None:
            _remember(self._seen, first)

    def __aiter__(self) -> Paginator[T]:
        return self

    async def __anext__(self) -> T:
        if self._running:
            raise RuntimeError("anext(): this paginator is already being iterated by another task")
        if self._limit is None and not self._done:
            # The common case, once per item: the next item of the page in hand, with nothing to await.
            try:
                item = next(self._items, _NO_ITEM)
            except BaseException:
                self._finish()  # a page's items may come from a generator: end for good, as below
                raise
            if item is not _NO_ITEM:
                return item
        self._running = True
        try:
            return await self._advance()
        except BaseException:
            self._finish()
            raise
        finally:
            self._running = False

    async def _advance(self) -> T:
        while not self._done:
            for item in self._items:
                self._count += 1
                if self._limit is not None and self._count >= self._limit:
                    self._finish()  # nothing further is fetched once the limit is reached
                return item
            if self._started and self._next is None:
                break
            await self._fetch_next()
        raise StopAsyncIteration

    async def _fetch_next(self) -> None:
        cursor = self._next
        if self._started and (cursor == self._cursor or not _remember(self._seen, cursor)):
            # Unhashable cursors (dicts) can only be compared with the previous one.
            raise ProviderError(
                f"pagination did not advance: the provider returned the cursor "
                f"{_cursor_repr.repr(cursor)} again",
                provider=self._provider,
            )
        self._started = True
        self._cursor = cursor
        page = await self._fetch(cursor)
        self._items = iter(page.items)
        self._next = page.next

    def _finish(self) -> None:
        self._done = True
        self._items = iter(())

    async def aclose(self) -> None:
        """End the iteration: further ``__anext__`` calls raise ``StopAsyncIteration``."""
        self._finish()


def _remember(seen: set[Any], cursor: object) -> bool:
    """Add ``cursor`` to ``seen``; False if it was there already. Unhashable cursors are not tracked."""
    try:
        if cursor in seen:
            return False
        seen.add(cursor)
    except TypeError:
        pass
    return True


def marker_pages(
    fetch: Callable[[C | None, int], Awaitable[Sequence[T]]],
    *,
    key: Callable[[T], C],
    page_size: int,
    first: C | None = None,
    short_page_ends: bool = True,
    limit: int | None = None,
    provider: str | None = None,
) -> Paginator[T]:
    """Follow a ``marker`` listing: each page starts after the key of the previous page's last item.

    Args:
        fetch: ``fetch(marker, page_size)`` returns the items after ``marker`` (``None``: from the start),
            at most ``page_size`` of them. ``page_size`` is smaller than the configured one when fewer
            items are still wanted for ``limit``.
        key: The marker of an item (its name, its id).
        page_size: Items to ask for per page.
        first: Start after this marker.
        short_page_ends: A page with fewer items than asked for is the last one. Set to ``False`` when
            the provider may cap ``page_size`` below what was asked: an empty page then ends the listing,
            at the cost of one more request.
        limit: Stop after this many items; ``None`` for all.
        provider: The provider's name, for error messages.

    Returns:
        An async iterator of the items (a :class:`Paginator`).
    """
    _check_page_size(page_size)
    _check_limit(limit)
    fetched = 0

    async def fetch_page(marker: C | None) -> Page[T, C]:
        nonlocal fetched
        size = page_size if limit is None else min(page_size, limit - fetched)
        items = await fetch(marker, size)
        fetched += len(items)
        if not items or (short_page_ends and len(items) < size):
            return Page(items)
        return Page(items, key(items[-1]))

    return paginate(fetch_page, first=first, limit=limit, provider=provider)


def token_pages(
    fetch: Callable[[C | None], Awaitable[tuple[Sequence[T], C | None]]],
    *,
    first: C | None = None,
    limit: int | None = None,
    provider: str | None = None,
) -> Paginator[T]:
    """Follow a continuation token returned with each page (S3 ``NextContinuationToken``, ``NextToken``).

    Args:
        fetch: ``fetch(token)`` returns ``(items, next_token)``; called with ``first`` (usually ``None``)
            for the first page. A ``None`` or empty-string token ends the listing. The token may be any
            value, e.g. a tuple for Route 53's ``(NextRecordName, NextRecordType)``.
        first: The token of the first page.
        limit: Stop after this many items; ``None`` for all.
        provider: The provider's name, for error messages.

    Returns:
        An async iterator of the items (a :class:`Paginator`).
    """

    async def fetch_page(token: C | None) -> Page[T, C]:
        items, following = await fetch(token)
        if isinstance(following, str) and not following:
            following = None
        return Page(items, following)

    return paginate(fetch_page, first=first, limit=limit, provider=provider)


def link_pages(
    fetch: Callable[[str], Awaitable[tuple[Sequence[T], str | None]]],
    first: str,
    *,
    limit: int | None = None,
    provider: str | None = None,
) -> Paginator[T]:
    """Follow ``next`` links: each page names the URL of the following one.

    Args:
        fetch: ``fetch(url)`` returns ``(items, next_url)``, ``next_url`` being ``None`` (or empty) on
            the last page. Use :func:`next_link` for OpenStack-style ``[{"rel": "next", "href": ...}]``
            lists, ``response.links.get("next", {}).get("url")`` for an RFC 8288 ``Link`` header.
            Resolving a relative link is up to ``fetch``.
        first: The URL (or path) of the first page.
        limit: Stop after this many items; ``None`` for all.
        provider: The provider's name, for error messages.

    Returns:
        An async iterator of the items (a :class:`Paginator`).
    """

    async def fetch_page(url: str | None) -> Page[T, str]:
        items, following = await fetch(first if url is None else url)
        return Page(items, following or None)

    return paginate(fetch_page, first=first, limit=limit, provider=provider)


def next_link(links: Sequence[Any] | None, rel: str = "next") -> str | None:
    """Return the ``href`` of the link whose ``rel`` is ``rel`` in an OpenStack-style links list.

    Args:
        links: E.g. a Nova ``servers_links`` value: ``[{"href": "...", "rel": "next"}]``. ``None`` and
            malformed entries are tolerated.
        rel: The relation to look for.

    Returns:
        The link, or ``None`` if there is none.
    """
    for link in links or ():
        if isinstance(link, dict) and link.get("rel") == rel:
            href = link.get("href")
            if isinstance(href, str) and href:
                return href
    return None


def offset_pages(
    fetch: Callable[[int, int], Awaitable[tuple[Sequence[T], int | None]]],
    *,
    page_size: int,
    start: int = 0,
    short_page_ends: bool = True,
    limit: int | None = None,
    provider: str | None = None,
) -> Paginator[T]:
    """Follow ``limit``/``offset`` paging (Rackspace Cloud DNS ``?limit=100&offset=200``).

    The listing ends at an empty page, once ``total`` items were seen, or (``short_page_ends``) at a page
    with fewer items than asked for.

    Args:
        fetch: ``fetch(offset, page_size)`` returns ``(items, total)``, ``total`` being the provider's
            count of all items (``totalEntries``) or ``None`` if it does not say. ``page_size`` is smaller
            than the configured one when fewer items are still wanted for ``limit``.
        page_size: Items to ask for per page.
        start: Offset of the first page.
        short_page_ends: See :func:`marker_pages`.
        limit: Stop after this many items; ``None`` for all.
        provider: The provider's name, for error messages.

    Returns:
        An async iterator of the items (a :class:`Paginator`).
    """
    _check_page_size(page_size)
    _check_limit(limit)
    if start < 0:
        raise ConfigurationError(f"start must be >= 0, got {start}")

    async def fetch_page(offset: int | None) -> Page[T, int]:
        offset = start if offset is None else offset
        size = page_size if limit is None else min(page_size, limit - (offset - start))
        items, total = await fetch(offset, size)
        following = offset + len(items)
        if not items or (total is not None and following >= total) or (short_page_ends and len(items) < size):
            return Page(items)
        return Page(items, following)

    return paginate(fetch_page, limit=limit, provider=provider)


def page_number_pages(
    fetch: Callable[[int], Awaitable[tuple[Sequence[T], int | None]]],
    *,
    first_page: int = 1,
    page_size: int | None = None,
    limit: int | None = None,
    provider: str | None = None,
) -> Paginator[T]:
    """Follow numbered pages (``?page=1``, ``?page=2``, ...).

    The listing ends at an empty page, at the last page by ``total_pages``, or, when ``page_size`` is
    given, at a page with fewer items than that.

    Args:
        fetch: ``fetch(page)`` returns ``(items, total_pages)``, ``total_pages`` being ``None`` when the
            provider does not say. ``fetch`` puts its own page size in the request.
        first_page: The number of the first page (``1`` or ``0``).
        page_size: The page size ``fetch`` asks for, to recognize a short last page; ``None`` if unknown.
        limit: Stop after this many items; ``None`` for all.
        provider: The provider's name, for error messages.

    Returns:
        An async iterator of the items (a :class:`Paginator`).
    """
    if page_size is not None:
        _check_page_size(page_size)

    async def fetch_page(page: int | None) -> Page[T, int]:
        page = first_page if page is None else page
        items, total_pages = await fetch(page)
        if (
            not items
            or (total_pages is not None and page - first_page + 1 >= total_pages)
            or (page_size is not None and len(items) < page_size)
        ):
            return Page(items)
        return Page(items, page + 1)

    return paginate(fetch_page, limit=limit, provider=provider)


async def collect(it: AsyncIterable[T], limit: int | None = None) -> list[T]:
    """Gather an async iterable into a list (``list_nodes = collect(iterate_nodes())``).

    An async generator (anything with ``aclose``) is closed when this returns, also when it stopped early
    because of ``limit``, so its cleanup runs now rather than whenever the garbage collector gets to it.

    Args:
        it: The items.
        limit: Take at most this many; ``None`` for all.

    Returns:
        The items, in order.

    Raises:
        ConfigurationError: ``limit`` is invalid.
    """
    _check_limit(limit)
    iterator = aiter(it)
    if isinstance(iterator, _Closable):
        async with aclosing(iterator):
            return await _drain(iterator, limit)
    return await _drain(iterator, limit)


@runtime_checkable
class _Closable(Protocol):
    async def aclose(self) -> None: ...


async def _drain(iterator: AsyncIterator[T], limit: int | None) -> list[T]:
    items: list[T] = []
    if limit == 0:
        return items
    async for item in iterator:
        items.append(item)
        if limit is not None and len(items) >= limit:
            break
    return items
