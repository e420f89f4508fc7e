"""Pagination: every paging style reaches the end, honours limits, and refuses to loop forever."""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from asynccloud._pagination import (
    Page,
    collect,
    link_pages,
    marker_pages,
    next_link,
    offset_pages,
    page_number_pages,
    paginate,
    token_pages,
)
from asynccloud.errors import ConfigurationError, ProviderError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Sequence

pytestmark = pytest.mark.anyio

NAMES = [f"obj-{i:05d}" for i in range(2501)]


class Calls:
    """Records the arguments of every fetch."""

    def __init__(self) -> None:
        self.args: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.args.append(args)

    def __len__(self) -> int:
        return len(self.args)


# --------------------------------------------------------------------------------------------------
# paginate
# --------------------------------------------------------------------------------------------------


def page_fetcher(items: Sequence[str], page_size: int, calls: Calls) -> Any:
    async def fetch(cursor: int | None) -> Page[str, int]:
        calls(cursor)
        await anyio.lowlevel.checkpoint()
        start = cursor or 0
        end = start + page_size
        return Page(items[start:end], end if end < len(items) else None)

    return fetch


async def test_paginate_reaches_the_last_page() -> None:
    calls = Calls()
    assert await collect(paginate(page_fetcher(NAMES, 1000, calls))) == NAMES
    assert calls.args == [(None,), (1000,), (2000,)]


@pytest.mark.parametrize(("limit", "fetches"), [(0, 0), (1, 1), (1000, 1), (1001, 2), (2501, 3), (9999, 3)])
async def test_paginate_limit_stops_fetching(limit: int, fetches: int) -> None:
    calls = Calls()
    assert await collect(paginate(page_fetcher(NAMES, 1000, calls), limit=limit)) == NAMES[:limit]
    assert len(calls) == fetches


async def test_paginate_starts_at_first_cursor() -> None:
    calls = Calls()
    assert await collect(paginate(page_fetcher(NAMES, 1000, calls), first=2400)) == NAMES[2400:]
    assert calls.args == [(2400,)]


async def test_empty_pages_with_a_cursor_are_followed() -> None:
    pages = {None: Page[int, str]([], "a"), "a": Page([1, 2], "b"), "b": Page([], "c"), "c": Page([3])}

    async def fetch(cursor: str | None) -> Page[int, str]:
        return pages[cursor]

    assert await collect(paginate(fetch)) == [1, 2, 3]


async def test_repeated_cursor_raises_instead_of_looping() -> None:
    calls = Calls()

    async def stuck(cursor: str | None) -> Page[int, str]:
        calls(cursor)
        return Page([len(calls)], "same-token")

    with pytest.raises(ProviderError, match=r"pagination did not advance.*'same-token'") as info:
        await collect(paginate(stuck, provider="aws"))
    assert info.value.provider == "aws"
    assert "[aws]" in str(info.value)
    assert calls.args == [(None,), ("same-token",)]


async def test_cursor_cycle_raises() -> None:
    cycle = {None: "A", "A": "B", "B": "A"}

    async def fetch(cursor: str | None) -> Page[str, str]:
        return Page([str(cursor)], cycle[cursor])

    with pytest.raises(ProviderError, match="did not advance"):
        await collect(paginate(fetch))


async def test_repeating_the_first_cursor_raises() -> None:
    async def fetch(cursor: str | None) -> Page[int, str]:
        return Page([1], "start")

    with pytest.raises(ProviderError, match="did not advance"):
        await collect(paginate(fetch, first="start"))


async def test_repeated_unhashable_cursor_raises() -> None:
    async def fetch(cursor: dict[str, str] | None) -> Page[int, dict[str, str]]:
        return Page([1], {"ExclusiveStartKey": "k"})

    with pytest.raises(ProviderError, match="did not advance"):
        await collect(paginate(fetch))


async def test_long_cursors_are_shortened_in_the_message() -> None:
    async def fetch(cursor: str | None) -> Page[int, str]:
        return Page([1], "t" * 5000)

    with pytest.raises(ProviderError) as info:
        await collect(paginate(fetch))
    assert len(str(info.value)) < 200


async def test_invalid_limit_is_rejected_at_the_call() -> None:
    fetch = page_fetcher(NAMES, 10, Calls())
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigurationError, match="limit"):
            paginate(fetch, limit=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="limit"):
        await collect(paginate(fetch), limit=-1)


async def test_early_break_inside_aclosing_closes_the_generator() -> None:
    calls = Calls()
    async with aclosing(paginate(page_fetcher(NAMES, 1000, calls))) as items:
        async for _ in items:
            break
    with pytest.raises(StopAsyncIteration):
        await items.__anext__()
    assert len(calls) == 1


async def test_collect_closes_a_driver_generator_when_it_stops_early() -> None:
    events: list[str] = []

    async def iterate_nodes() -> AsyncGenerator[str, None]:
        try:
            async for name in paginate(page_fetcher(NAMES, 1000, Calls())):
                yield name
        finally:
            events.append("closed")

    assert await collect(iterate_nodes(), limit=3) == NAMES[:3]
    assert events == ["closed"]  # now, not whenever the garbage collector gets to it


async def test_a_driver_generator_may_break_out_of_a_paginator() -> None:
    # No aclosing needed around the helper inside a driver's generator: a Paginator is no generator,
    # so nothing is left to finalize (trio would warn about an abandoned async generator).
    calls = Calls()

    async def iterate_first_two() -> AsyncGenerator[str, None]:
        count = 0
        async for name in marker_pages(swift(NAMES, calls), key=name_of, page_size=1000):
            yield name_of(name)
            count += 1
            if count == 2:
                break

    assert await collect(iterate_first_two()) == NAMES[:2]
    assert len(calls) == 1


async def test_paginator_is_single_use_and_ends_after_an_error() -> None:
    calls = Calls()

    async def flaky(cursor: int | None) -> Page[int, int]:
        calls(cursor)
        if cursor:
            raise RuntimeError("boom")
        return Page([1, 2], 1)

    pages = paginate(flaky)
    assert pages.__aiter__() is pages
    assert [await anext(pages), await anext(pages)] == [1, 2]
    with pytest.raises(RuntimeError, match="boom"):
        await anext(pages)
    with pytest.raises(StopAsyncIteration):
        await anext(pages)
    assert len(calls) == 2


async def test_paginator_refuses_concurrent_iteration() -> None:
    release = anyio.Event()

    async def slow(cursor: int | None) -> Page[int, int]:
        await release.wait()
        return Page([1])

    pages = paginate(slow)
    async with anyio.create_task_group() as tg:
        tg.start_soon(anext, pages)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(RuntimeError, match="already being iterated"):
            await anext(pages)
        release.set()


async def test_paginator_aclose() -> None:
    calls = Calls()
    pages = paginate(page_fetcher(NAMES, 1000, calls))
    assert await anext(pages) == NAMES[0]
    await pages.aclose()
    with pytest.raises(StopAsyncIteration):
        await anext(pages)
    assert len(calls) == 1


async def test_collect_accepts_any_async_iterable() -> None:
    class Numbers:
        def __aiter__(self) -> AsyncIterator[int]:
            return self._gen()

        async def _gen(self) -> AsyncIterator[int]:
            for i in range(5):
                yield i

    assert await collect(Numbers()) == [0, 1, 2, 3, 4]
    assert await collect(Numbers(), limit=2) == [0, 1]
    assert await collect(Numbers(), limit=0) == []


# --------------------------------------------------------------------------------------------------
# marker_pages: Swift / Rackspace Cloud Files
# --------------------------------------------------------------------------------------------------


def swift(names: Sequence[str], calls: Calls, *, server_max: int = 10_000) -> Any:
    """A fake container listing: names after ``marker``, at most ``min(limit, server_max)``."""

    async def fetch(marker: str | None, limit: int) -> list[dict[str, Any]]:
        calls(marker, limit)
        after = [n for n in names if marker is None or n > marker]
        return [{"name": n, "bytes": 1} for n in after[: min(limit, server_max)]]

    return fetch


def name_of(raw: dict[str, Any]) -> str:
    return str(raw["name"])


async def test_marker_pages_reach_the_end() -> None:
    calls = Calls()
    items = await collect(marker_pages(swift(NAMES, calls), key=name_of, page_size=1000))
    assert [name_of(i) for i in items] == NAMES
    assert calls.args == [(None, 1000), ("obj-00999", 1000), ("obj-01999", 1000)]  # last page short


async def test_marker_pages_exact_multiple_ends_on_empty_page() -> None:
    calls = Calls()
    items = await collect(marker_pages(swift(NAMES[:2000], calls), key=name_of, page_size=1000))
    assert len(items) == 2000
    assert len(calls) == 3


async def test_marker_pages_without_short_page_rule_survive_a_server_cap() -> None:
    calls = Calls()
    fetch = swift(NAMES, calls, server_max=300)
    items = await collect(marker_pages(fetch, key=name_of, page_size=1000, short_page_ends=False))
    assert len(items) == len(NAMES)
    assert len(calls) == 10  # 9 pages of at most 300, then an empty one


async def test_marker_pages_limit_asks_for_no_more_than_needed() -> None:
    calls = Calls()
    items = await collect(marker_pages(swift(NAMES, calls), key=name_of, page_size=1000, limit=1500))
    assert len(items) == 1500
    assert calls.args == [(None, 1000), ("obj-00999", 500)]


async def test_marker_pages_start_after_first_marker() -> None:
    calls = Calls()
    items = await collect(marker_pages(swift(NAMES, calls), key=name_of, page_size=1000, first="obj-02499"))
    assert [name_of(i) for i in items] == NAMES[2500:]


async def test_marker_pages_detect_a_provider_ignoring_the_marker() -> None:
    async def ignores_marker(marker: str | None, limit: int) -> list[str]:
        return NAMES[:limit]

    with pytest.raises(ProviderError, match="did not advance"):
        await collect(marker_pages(ignores_marker, key=str, page_size=10))


async def test_marker_pages_validate_page_size() -> None:
    with pytest.raises(ConfigurationError, match="page_size"):
        marker_pages(swift(NAMES, Calls()), key=name_of, page_size=0)


# --------------------------------------------------------------------------------------------------
# token_pages: S3 ListObjectsV2, EC2 NextToken, Route 53 tuples
# --------------------------------------------------------------------------------------------------


async def test_token_pages_reach_the_end() -> None:
    calls = Calls()

    async def list_objects_v2(token: str | None) -> tuple[list[str], str | None]:
        calls(token)
        start = 0 if token is None else int(token.removeprefix("tok-"))
        end = start + 1000
        truncated = end < len(NAMES)
        return NAMES[start:end], (f"tok-{end}" if truncated else None)

    assert await collect(token_pages(list_objects_v2)) == NAMES
    assert calls.args == [(None,), ("tok-1000",), ("tok-2000",)]
    calls.args.clear()
    assert await collect(token_pages(list_objects_v2, limit=1000)) == NAMES[:1000]
    assert len(calls) == 1


async def test_empty_string_token_ends_the_listing() -> None:
    calls = Calls()

    async def describe(token: str | None) -> tuple[list[int], str | None]:
        calls(token)
        return ([1, 2], "") if token else ([0], "next")

    assert await collect(token_pages(describe)) == [0, 1, 2]
    assert len(calls) == 2


async def test_token_pages_accept_structured_tokens() -> None:
    records = [("a.example.", "A"), ("b.example.", "MX"), ("c.example.", "TXT")]

    async def list_rrsets(
        token: tuple[str, str] | None,
    ) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
        start = 0 if token is None else records.index(token)
        page = records[start : start + 2]
        following = records[start + 2] if start + 2 < len(records) else None
        return page, following

    assert await collect(token_pages(list_rrsets)) == records


# --------------------------------------------------------------------------------------------------
# link_pages: OpenStack servers_links, Glance next
# --------------------------------------------------------------------------------------------------


async def test_link_pages_follow_next_links() -> None:
    calls = Calls()

    async def list_servers(url: str) -> tuple[list[str], str | None]:
        calls(url)
        marker = url.partition("marker=")[2]
        start = NAMES.index(marker) + 1 if marker else 0
        page = NAMES[start : start + 1000]
        links = [{"rel": "self", "href": url}]
        if start + 1000 < len(NAMES):
            links.append({"rel": "next", "href": f"/servers?limit=1000&marker={page[-1]}"})
        return page, next_link(links)

    assert await collect(link_pages(list_servers, "/servers?limit=1000")) == NAMES
    assert calls.args == [
        ("/servers?limit=1000",),
        ("/servers?limit=1000&marker=obj-00999",),
        ("/servers?limit=1000&marker=obj-01999",),
    ]


async def test_link_pages_repeated_link_raises() -> None:
    async def fetch(url: str) -> tuple[list[int], str | None]:
        return [1], "/images?marker=x"

    with pytest.raises(ProviderError, match="did not advance"):
        await collect(link_pages(fetch, "/images"))


async def test_link_pages_first_url_returned_again_raises() -> None:
    async def fetch(url: str) -> tuple[list[int], str | None]:
        return [1], "/images"

    with pytest.raises(ProviderError, match="did not advance"):
        await collect(link_pages(fetch, "/images"))


def test_next_link() -> None:
    assert next_link([{"rel": "self", "href": "a"}, {"rel": "next", "href": "b"}]) == "b"
    assert next_link([{"rel": "previous", "href": "a"}]) is None
    assert next_link(None) is None
    assert next_link([]) is None
    assert next_link(["junk", {"rel": "next"}, {"rel": "next", "href": ""}]) is None
    assert next_link([{"rel": "previous", "href": "p"}], rel="previous") == "p"


# --------------------------------------------------------------------------------------------------
# offset_pages: Rackspace Cloud DNS
# --------------------------------------------------------------------------------------------------


def cloud_dns(names: Sequence[str], calls: Calls, *, with_total: bool = True) -> Any:
    async def list_domains(offset: int, limit: int) -> tuple[Sequence[str], int | None]:
        calls(offset, limit)
        return names[offset : offset + limit], (len(names) if with_total else None)

    return list_domains


@pytest.mark.parametrize("with_total", [True, False])
async def test_offset_pages_reach_the_end(with_total: bool) -> None:
    calls = Calls()
    assert await collect(offset_pages(cloud_dns(NAMES, calls, with_total=with_total), page_size=100)) == NAMES
    assert len(calls) == 26
    assert calls.args[-1] == (2500, 100)


async def test_offset_pages_total_avoids_a_trailing_empty_page() -> None:
    calls = Calls()
    fetch = cloud_dns(NAMES[:2500], calls)
    assert len(await collect(offset_pages(fetch, page_size=100, short_page_ends=False))) == 2500
    assert len(calls) == 25


async def test_offset_pages_without_total_or_short_rule_end_on_empty_page() -> None:
    calls = Calls()
    fetch = cloud_dns(NAMES, calls, with_total=False)
    assert len(await collect(offset_pages(fetch, page_size=1000, short_page_ends=False))) == 2501
    assert calls.args == [(0, 1000), (1000, 1000), (2000, 1000), (2501, 1000)]


async def test_offset_pages_limit_and_start() -> None:
    calls = Calls()
    assert (
        await collect(offset_pages(cloud_dns(NAMES, calls), page_size=100, limit=150, start=10))
        == (NAMES[10:160])
    )
    assert calls.args == [(10, 100), (110, 50)]


async def test_offset_pages_validate_arguments() -> None:
    with pytest.raises(ConfigurationError, match="page_size"):
        offset_pages(cloud_dns(NAMES, Calls()), page_size=-5)
    with pytest.raises(ConfigurationError, match="start"):
        offset_pages(cloud_dns(NAMES, Calls()), page_size=5, start=-1)


# --------------------------------------------------------------------------------------------------
# page_number_pages
# --------------------------------------------------------------------------------------------------


def numbered(names: Sequence[str], calls: Calls, *, per_page: int, first: int = 1, total: bool = True) -> Any:
    async def fetch(page: int) -> tuple[Sequence[str], int | None]:
        calls(page)
        start = (page - first) * per_page
        pages = -(-len(names) // per_page)
        return names[start : start + per_page], (pages if total else None)

    return fetch


async def test_page_numbers_with_total_pages() -> None:
    calls = Calls()
    assert await collect(page_number_pages(numbered(NAMES, calls, per_page=1000))) == NAMES
    assert calls.args == [(1,), (2,), (3,)]


async def test_page_numbers_zero_based_with_total_pages() -> None:
    calls = Calls()
    fetch = numbered(NAMES[:2000], calls, per_page=1000, first=0)
    assert await collect(page_number_pages(fetch, first_page=0)) == NAMES[:2000]
    assert calls.args == [(0,), (1,)]


async def test_page_numbers_without_total_end_on_empty_page() -> None:
    calls = Calls()
    fetch = numbered(NAMES, calls, per_page=1000, total=False)
    assert await collect(page_number_pages(fetch)) == NAMES
    assert calls.args == [(1,), (2,), (3,), (4,)]


async def test_page_numbers_short_page_ends_when_page_size_known() -> None:
    calls = Calls()
    fetch = numbered(NAMES, calls, per_page=1000, total=False)
    assert await collect(page_number_pages(fetch, page_size=1000)) == NAMES
    assert calls.args == [(1,), (2,), (3,)]


async def test_page_numbers_limit() -> None:
    calls = Calls()
    assert len(await collect(page_number_pages(numbered(NAMES, calls, per_page=1000), limit=1000))) == 1000
    assert calls.args == [(1,)]
