"""The local storage driver, end to end on a temporary directory."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tracemalloc
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import pytest

from asynccloud import (
    Capability,
    ConfigurationError,
    ConflictError,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    DestinationExistsError,
    DriverType,
    IntegrityError,
    InvalidNameError,
    NotSupportedError,
    ObjectNotFoundError,
    Provider,
    get_driver,
)
from asynccloud._pagination import collect
from asynccloud.drivers.base import StorageDriver
from asynccloud.drivers.local import LocalStorageDriver
from asynccloud.drivers.local import storage as local_storage
from asynccloud.models import Container

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

pytestmark = pytest.mark.anyio


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
async def driver(root: Path) -> AsyncIterator[LocalStorageDriver]:
    async with LocalStorageDriver(root) as d:
        yield d


@pytest.fixture
async def box(driver: LocalStorageDriver) -> Container:
    return await driver.create_container("box")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


async def read_all(driver: LocalStorageDriver, container: str, name: str) -> bytes:
    obj = await driver.get_object(container, name)
    return b"".join([chunk async for chunk in obj.as_stream()])


def staging_files(root: Path) -> list[Path]:
    return [p for p in (root / ".asynccloud" / "staging").rglob("*") if p.is_file()]


# --- construction -----------------------------------------------------------------------------------


async def test_registry_and_protocol(root: Path) -> None:
    cls = get_driver(DriverType.STORAGE, Provider.LOCAL)
    assert cls is LocalStorageDriver
    async with cls(str(root)) as d:
        assert isinstance(d, StorageDriver)
        assert d.supports(Capability.RANGE_DOWNLOADS)
        assert not d.supports(Capability.CONTAINER_CDN)


def test_constructor_does_no_io_and_validates(root: Path) -> None:
    LocalStorageDriver(root)
    assert not root.exists()
    with pytest.raises(ConfigurationError, match="root directory"):
        LocalStorageDriver("")
    with pytest.raises(ConfigurationError, match="chunk_size"):
        LocalStorageDriver(root, chunk_size=0)


def test_driver_refuses_pickling(root: Path) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(LocalStorageDriver(root))


async def test_unsupported_verbs_raise_not_supported(driver: LocalStorageDriver, box: Container) -> None:
    with pytest.raises(NotSupportedError) as info:
        await driver.enable_container_cdn(box)
    assert info.value.provider == "local"
    assert info.value.capability == Capability.CONTAINER_CDN
    obj = await box.upload_object_via_stream(b"x", "x")
    with pytest.raises(NotSupportedError):
        await obj.get_cdn_url()


# --- containers -------------------------------------------------------------------------------------


async def test_container_life_cycle(driver: LocalStorageDriver) -> None:
    for name in ("zeta", "alpha", "mid"):
        await driver.create_container(name)
    assert [c.name for c in await driver.list_containers()] == ["alpha", "mid", "zeta"]
    assert (await driver.get_container("mid")).name == "mid"
    with pytest.raises(ContainerAlreadyExistsError):
        await driver.create_container("mid")
    await (await driver.get_container("mid")).delete()
    with pytest.raises(ContainerNotFoundError):
        await driver.get_container("mid")


async def test_delete_non_empty_container(driver: LocalStorageDriver, box: Container) -> None:
    await box.upload_object_via_stream(b"data", "deep/down/file")
    with pytest.raises(ContainerNotEmptyError):
        await box.delete()
    assert (await driver.get_object("box", "deep/down/file")).size == 4
    await (await driver.get_object("box", "deep/down/file")).delete()
    await box.delete()
    assert await driver.list_containers() == []


# --- uploads from every source ----------------------------------------------------------------------


async def test_upload_from_every_source_kind(
    driver: LocalStorageDriver, box: Container, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 + 17)
    src = tmp_path / "src.bin"
    src.write_bytes(data)

    def sync_chunks() -> Iterator[bytes]:
        yield data[:100]
        yield data[100:]

    async def async_chunks() -> AsyncIterator[bytes]:
        yield data[:1000]
        await anyio.lowlevel.checkpoint()
        yield data[1000:]

    with src.open("rb") as fileobj:
        sources: dict[str, object] = {
            "bytes": data,
            "bytearray": bytearray(data),
            "str-path": str(src),
            "path": src,
            "file": fileobj,
            "bytesio": io.BytesIO(data),
            "sync-iter": sync_chunks(),
            "async-iter": async_chunks(),
        }
        for name, source in sources.items():
            obj = await box.upload_object_via_stream(source, name)  # type: ignore[arg-type]
            assert (obj.size, obj.hash) == (len(data), md5(data)), name
            assert await read_all(driver, "box", name) == data, name
    obj = await box.upload_object(src, "from-upload-object")
    assert obj.hash == md5(data)


async def test_upload_object_missing_file(box: Container, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        await box.upload_object(tmp_path / "nope", "x")


async def test_upload_into_missing_container(driver: LocalStorageDriver) -> None:
    with pytest.raises(ContainerNotFoundError):
        await driver.upload_object_via_stream(b"x", Container(name="ghost"), "x")


async def test_content_type_and_meta_data_survive_a_restart(root: Path, box: Container) -> None:
    await box.upload_object_via_stream(b"<p>", "page.html", meta_data={"owner": "ana", "ü": "ß"})
    await box.upload_object_via_stream(b"{}", "blob", content_type="application/json")
    async with LocalStorageDriver(root) as again:
        page = await again.get_object("box", "page.html")
        assert page.content_type == "text/html"
        assert page.meta_data == {"owner": "ana", "ü": "ß"}
        assert page.hash == md5(b"<p>")
        listed = {o.name: o for o in await (await again.get_container("box")).list_objects()}
        assert listed["blob"].content_type == "application/json"
        assert listed["page.html"].meta_data == {"owner": "ana", "ü": "ß"}


async def test_bad_meta_data_is_rejected(box: Container) -> None:
    with pytest.raises(ConfigurationError, match=r"meta_data\['n'\] must be a string"):
        await box.upload_object_via_stream(b"x", "x", meta_data={"n": 1})  # type: ignore[dict-item]


async def test_replaced_by_hand_file_does_not_trust_stale_metadata(
    driver: LocalStorageDriver, box: Container, root: Path
) -> None:
    await box.upload_object_via_stream(b"old", "f", meta_data={"a": "b"})
    (root / "box" / "f").write_bytes(b"new content")
    obj = await driver.get_object("box", "f")
    assert obj.hash == md5(b"new content")
    assert obj.meta_data == {}


# --- listing ----------------------------------------------------------------------------------------


async def test_objects_listed_in_name_order_with_prefix(driver: LocalStorageDriver, box: Container) -> None:
    names = ["a/b", "a-b", "a", "b/c/d", "b/c0", "a.txt", "ä", "b/c/e", "z"]
    for name in names:
        if name == "a":
            continue  # 'a' cannot be both an object and a prefix directory
        await box.upload_object_via_stream(name.encode(), name)
    expected = sorted(n for n in names if n != "a")
    assert [o.name for o in await box.list_objects()] == expected
    assert [o.name for o in await box.list_objects(prefix="b/c")] == ["b/c/d", "b/c/e", "b/c0"]
    assert [o.name for o in await box.list_objects(prefix="b/c/")] == ["b/c/d", "b/c/e"]
    assert [o.name for o in await box.list_objects(prefix="nothing")] == []


async def test_listing_is_lazy(
    driver: LocalStorageDriver, box: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        await box.upload_object_via_stream(b"x", f"d{i}/f")
    scanned: list[str] = []
    real = local_storage._sorted_entries

    def counting(cdir: Path, rel: str, prefix: str | None) -> list[tuple[str, bool]]:
        scanned.append(rel)
        return real(cdir, rel, prefix)

    monkeypatch.setattr(local_storage, "_sorted_entries", counting)
    first = await collect(box.iterate_objects(), limit=1)
    assert [o.name for o in first] == ["d0/f"]
    assert scanned == ["", "d0"]  # the other directories were never read


async def test_listing_many_objects_in_batches(box: Container) -> None:
    async with anyio.create_task_group() as tg:
        for i in range(600):
            tg.start_soon(box.upload_object_via_stream, b"x", f"k{i:04d}")
    names = [o.name async for o in box.iterate_objects()]
    assert names == [f"k{i:04d}" for i in range(600)]


# --- downloads --------------------------------------------------------------------------------------


async def test_download_as_stream_honours_chunk_size(box: Container) -> None:
    data = os.urandom(10_000)
    obj = await box.upload_object_via_stream(data, "f")
    chunks = [c async for c in obj.as_stream(chunk_size=4096)]
    assert [len(c) for c in chunks] == [4096, 4096, 1808]
    assert b"".join(chunks) == data


async def test_range_downloads_are_end_exclusive(box: Container, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4
    obj = await box.upload_object_via_stream(data, "f")
    assert b"".join([c async for c in obj.range_as_stream(10, 20)]) == data[10:20]
    assert b"".join([c async for c in obj.range_as_stream(1000)]) == data[1000:]
    path = await obj._storage().download_object_range(obj, tmp_path / "part", 5, 9)
    assert path.read_bytes() == data[5:9]
    for start, end in ((-1, 5), (5, 5), (9, 3)):
        with pytest.raises(ConfigurationError):
            obj.range_as_stream(start, end)
    with pytest.raises(ConfigurationError, match="past the end"):
        [c async for c in obj.range_as_stream(0, 5000)]


async def test_download_to_path_and_directory(box: Container, tmp_path: Path) -> None:
    obj = await box.upload_object_via_stream(b"hello", "dir/name.txt")
    target = tmp_path / "out.txt"
    assert await obj.download(target) == target
    assert target.read_bytes() == b"hello"
    assert await obj.download(tmp_path) == tmp_path / "name.txt"
    with pytest.raises(DestinationExistsError):
        await obj.download(target)
    await box.upload_object_via_stream(b"HELLO!", "dir/name.txt")
    fresh = await box.get_object("dir/name.txt")
    await fresh.download(target, overwrite_existing=True)
    assert target.read_bytes() == b"HELLO!"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["name.txt", "out.txt", "root"]


async def test_download_detects_changed_data_and_keeps_nothing(
    box: Container, tmp_path: Path, root: Path
) -> None:
    obj = await box.upload_object_via_stream(b"original", "f")
    (root / "box" / "f").write_bytes(b"tampered")  # same size, other bytes
    with pytest.raises(IntegrityError, match="MD5"):
        await obj.download(tmp_path / "out")
    (root / "box" / "f").write_bytes(b"short")
    with pytest.raises(IntegrityError):
        await obj.download(tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]


async def test_download_failure_can_keep_partial_data(box: Container, tmp_path: Path, root: Path) -> None:
    obj = await box.upload_object_via_stream(b"original", "f")
    (root / "box" / "f").write_bytes(b"short")
    with pytest.raises(IntegrityError):
        await obj.download(tmp_path / "out", delete_on_failure=False)
    assert not (tmp_path / "out").exists()
    assert (tmp_path / "out.part").read_bytes() == b"short"


async def test_missing_object(driver: LocalStorageDriver, box: Container) -> None:
    with pytest.raises(ObjectNotFoundError):
        await driver.get_object("box", "nope")
    obj = await box.upload_object_via_stream(b"x", "x")
    await obj.delete()
    with pytest.raises(ObjectNotFoundError):
        await obj.delete()
    with pytest.raises(ObjectNotFoundError):
        [c async for c in obj.as_stream()]


async def test_delete_prunes_empty_directories(box: Container, root: Path) -> None:
    await box.upload_object_via_stream(b"1", "a/b/c/one")
    await box.upload_object_via_stream(b"2", "a/two")
    await (await box.get_object("a/b/c/one")).delete()
    assert not (root / "box" / "a" / "b").exists()
    assert (root / "box" / "a" / "two").exists()


async def test_object_and_prefix_name_conflicts(box: Container) -> None:
    await box.upload_object_via_stream(b"1", "a")
    with pytest.raises(ConflictError, match="prefix of its name is an object"):
        await box.upload_object_via_stream(b"2", "a/b")
    await box.upload_object_via_stream(b"3", "d/e")
    with pytest.raises(ConflictError, match="start with 'd/'"):
        await box.upload_object_via_stream(b"4", "d")
    assert [o.name for o in await box.list_objects()] == ["a", "d/e"]


# --- safety -----------------------------------------------------------------------------------------

BAD_OBJECT_NAMES = [
    "../escape",
    "a/../../escape",
    "/etc/passwd",
    "a//b",
    "a/./b",
    "trailing/",
    "nul\x00byte",
    "",
]
BAD_CONTAINER_NAMES = ["..", ".", "a/b", "", "x\x00", ".asynccloud", "back\\slash"]


@pytest.mark.parametrize("name", BAD_OBJECT_NAMES)
async def test_object_names_that_escape_touch_nothing(
    driver: LocalStorageDriver, box: Container, tmp_path: Path, name: str
) -> None:
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    with pytest.raises(InvalidNameError):
        await box.upload_object_via_stream(b"x", name)
    with pytest.raises(InvalidNameError):
        await driver.get_object("box", name)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("name", BAD_CONTAINER_NAMES)
async def test_container_names_that_escape(driver: LocalStorageDriver, name: str) -> None:
    with pytest.raises(InvalidNameError):
        await driver.create_container(name)
    with pytest.raises(InvalidNameError):
        await driver.get_container(name)


async def test_symlinks_pointing_out_are_refused(
    driver: LocalStorageDriver, box: Container, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"do not read")
    os.symlink(outside, root / "box" / "linkdir")
    os.symlink(outside / "secret", root / "box" / "linkfile")
    os.symlink(outside, root / "evil-container")
    with pytest.raises(InvalidNameError):
        await driver.get_object("box", "linkfile")
    with pytest.raises(InvalidNameError):
        await driver.get_object("box", "linkdir/secret")
    with pytest.raises(InvalidNameError):
        await box.upload_object_via_stream(b"pwned", "linkdir/new")
    with pytest.raises(InvalidNameError):
        await driver.get_container("evil-container")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"do not read"
    assert [o.name for o in await box.list_objects()] == []
    assert [c.name for c in await driver.list_containers()] == ["box"]


# --- atomicity and concurrency ----------------------------------------------------------------------


async def test_concurrent_writers_of_one_name(driver: LocalStorageDriver, box: Container, root: Path) -> None:
    payloads = [bytes([i]) * (50_000 + i) for i in range(20)]

    async def write(data: bytes) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 7_000):
                yield data[i : i + 7_000]
                await anyio.lowlevel.checkpoint()

        await box.upload_object_via_stream(chunks(), "contended")

    async with anyio.create_task_group() as tg:
        for data in payloads:
            tg.start_soon(write, data)
    obj = await driver.get_object("box", "contended")
    content = await read_all(driver, "box", "contended")
    assert content in payloads
    assert (obj.size, obj.hash) == (len(content), md5(content))
    assert staging_files(root) == []


async def test_reader_never_sees_a_torn_object(driver: LocalStorageDriver, box: Container) -> None:
    await box.upload_object_via_stream(b"A" * 100_000, "f")
    release = anyio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"B" * 50_000
        await release.wait()
        yield b"B" * 50_000

    async with anyio.create_task_group() as tg:
        tg.start_soon(box.upload_object_via_stream, slow(), "f")
        await anyio.sleep(0.05)
        assert await read_all(driver, "box", "f") == b"A" * 100_000
        release.set()
    assert await read_all(driver, "box", "f") == b"B" * 100_000


async def test_cancelled_upload_leaves_nothing(
    driver: LocalStorageDriver, box: Container, root: Path
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 65536
            await anyio.lowlevel.checkpoint()

    with anyio.move_on_after(0.1):
        await box.upload_object_via_stream(endless(), "never")
    with pytest.raises(ObjectNotFoundError):
        await driver.get_object("box", "never")
    assert staging_files(root) == []


async def test_failing_source_leaves_nothing(driver: LocalStorageDriver, box: Container, root: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        await box.upload_object_via_stream(broken(), "half")
    with pytest.raises(ObjectNotFoundError):
        await driver.get_object("box", "half")
    assert staging_files(root) == []


# --- memory -----------------------------------------------------------------------------------------

BIG = 192 * 1024 * 1024


async def test_streaming_a_big_object_keeps_memory_flat(box: Container, root: Path) -> None:
    chunk = b"\x5a" * (1 << 20)

    async def gen() -> AsyncIterator[bytes]:
        for _ in range(BIG // len(chunk)):
            yield chunk

    tracemalloc.start()
    try:
        obj = await box.upload_object_via_stream(gen(), "big")
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total = 0
        async for piece in obj.as_stream(chunk_size=1 << 20):
            total += len(piece)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert obj.size == total == BIG
    assert upload_peak < 16 * 1024 * 1024, upload_peak
    assert download_peak < 16 * 1024 * 1024, download_peak
