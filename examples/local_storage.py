"""A short tour of asynccloud's storage API on the local filesystem driver.

Run it with ``scripts/demo.sh`` (which prepares the virtualenv), or
``python examples/local_storage.py [ROOT]``.
Every call below is the same on S3, Swift, Azure or GCS: only the ``get_driver`` line changes.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from asynccloud import ContainerNotEmptyError, DriverType, Provider, get_driver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


async def generate(parts: int, size: int) -> AsyncIterator[bytes]:
    """An async source of bytes, as a web handler or a pipeline would produce them."""
    for i in range(parts):
        yield bytes([65 + i % 26]) * size
        await anyio.lowlevel.checkpoint()


async def tour(root: Path) -> None:
    Storage = get_driver(DriverType.STORAGE, Provider.LOCAL)
    async with Storage(str(root)) as storage:
        print(f"driver: {storage!r}")
        photos = await storage.create_container("photos")
        await storage.create_container("backups")
        print("containers:", [c.name for c in await storage.list_containers()])

        # Upload from bytes, from a file, and from an async generator (streamed, hashed on the fly).
        await photos.upload_object_via_stream(b"tiny", "notes/readme.txt", meta_data={"owner": "ana"})
        src = root.parent / "cat.jpg"
        src.write_bytes(b"\xff\xd8" + b"meow" * 10_000)
        await photos.upload_object(src, "2026/11/cat.jpg")
        big = await photos.upload_object_via_stream(generate(64, 256 * 1024), "2026/11/big.bin")
        print(f"uploaded {big.name}: {big.size:,} bytes, md5 {big.hash}, type {big.content_type}")

        # Listings are async iterators, in name order, with a prefix filter.
        async for obj in photos.iterate_objects(prefix="2026/"):
            print(f"  {obj.name:<20} {obj.size:>10,} B  {obj.content_type}")

        # Stream a download in chunks, hashing as we go; then a byte range; then to a file.
        digest = hashlib.md5()
        async for chunk in big.as_stream(chunk_size=1 << 20):
            digest.update(chunk)
        assert digest.hexdigest() == big.hash
        first = b"".join([c async for c in big.range_as_stream(0, 4)])
        print(f"streamed {big.name}: md5 verified; first bytes {first!r}")
        path = await (await photos.get_object("notes/readme.txt")).download(root.parent / "readme.txt")
        print(f"downloaded to {path}: {path.read_bytes()!r}")
        readme = await photos.get_object("notes/readme.txt")
        print("meta_data kept:", readme.meta_data)

        # Errors are typed and portable.
        try:
            await photos.delete()
        except ContainerNotEmptyError as exc:
            print(f"cannot delete yet: {exc}")
        async for obj in photos.iterate_objects():
            await obj.delete()
        await photos.delete()
        print("containers left:", [c.name for c in await storage.list_containers()])


def main() -> None:
    if len(sys.argv) > 1:
        anyio.run(tour, Path(sys.argv[1]))
        return
    with tempfile.TemporaryDirectory(prefix="asynccloud-demo-") as tmp:
        anyio.run(tour, Path(tmp) / "storage")


if __name__ == "__main__":
    main()
