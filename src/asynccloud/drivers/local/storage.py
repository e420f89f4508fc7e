"""Local filesystem storage driver: containers are directories under a root, objects are files.

Object names may contain ``/`` (stored as subdirectories). Writes are atomic: data is streamed into a staging
file under ``<root>/.asynccloud/`` and renamed into place, so a reader never sees a torn object and a crash
never leaves a partial object under its final name. Content type, user metadata and the MD5 hash (computed
while the data streams in) are kept in sidecar records (see :mod:`._meta`) and survive restarts.
Names that would escape the root (``..``, absolute paths, NUL bytes, symlinks pointing out) raise
:class:`~asynccloud.errors.InvalidNameError` before anything is touched. All file I/O runs in worker threads.
"""

from __future__ import annotations

import errno
import hashlib
import mimetypes
import os
import shutil
import stat
import threading
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import anyio
import anyio.to_thread

from asynccloud._capability import Capability
from asynccloud._streams import StreamHasher, hashed, iter_source, read_file_range, write_stream_atomically
from asynccloud.drivers._kinds import StorageDriverBase, check_range
from asynccloud.drivers.local._meta import Meta, delete_meta, meta_dir, read_meta, write_meta
from asynccloud.drivers.local._paths import RESERVED, check_container_name, check_object_name, inside
from asynccloud.errors import (
    ConfigurationError,
    ConflictError,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    InvalidNameError,
    ObjectNotFoundError,
)
from asynccloud.models import Container, Object

if TYPE_CHECKING:
    from asynccloud._streams import UploadSource

__all__ = ["LocalStorageDriver"]

PROVIDER = "local"
_BATCH = 256  # objects built per worker-thread call while listing
# Serialises the few filesystem steps that commit or remove an object and its metadata record, so the
# two never disagree within this process; other processes are caught by the record's file fingerprint.
_COMMIT_LOCK = threading.Lock()


class LocalStorageDriver(StorageDriverBase):
    """Object storage in a local directory.

    Args:
        key: The root directory (created on first use if missing).
        secret: Unused; accepted for the portable constructor signature.
        fsync: Flush data and directory entries to stable storage before an upload returns.
        chunk_size: Default chunk size of downloads, in bytes.
    """

    provider: ClassVar[str] = PROVIDER
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.RANGE_DOWNLOADS, Capability.OBJECT_META_DATA}
    )

    def __init__(
        self,
        key: str | os.PathLike[str],
        secret: str | None = None,
        *,
        region: str | None = None,
        fsync: bool = False,
        chunk_size: int = 1 << 20,
    ) -> None:
        if not isinstance(key, str | os.PathLike) or not os.fspath(key):
            raise ConfigurationError(
                "the local storage driver needs the root directory as its first argument"
            )
        if chunk_size <= 0:
            raise ConfigurationError(f"chunk_size must be > 0, got {chunk_size}")
        self.region = region
        self._root = Path(os.path.abspath(Path(os.fspath(key)).expanduser()))
        self._real_root: Path | None = None
        self._fsync = fsync
        self.default_chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"<LocalStorageDriver root={str(self._root)!r}>"

    # --- paths -------------------------------------------------------------------------------------

    async def _base(self) -> Path:
        if self._real_root is None:
            self._real_root = await anyio.to_thread.run_sync(self._prepare_root)
        return self._real_root

    def _prepare_root(self) -> Path:
        (self._root / RESERVED / "staging").mkdir(parents=True, exist_ok=True)
        return Path(os.path.realpath(self._root))

    def _state(self, base: Path) -> Path:
        return base / RESERVED

    async def _container_dir(self, container_name: str) -> Path:
        name = check_container_name(container_name)
        base = await self._base()
        return await anyio.to_thread.run_sync(_existing_container, base, name)

    async def _object_file(self, container_name: str, object_name: str) -> tuple[Path, os.stat_result]:
        name = check_object_name(object_name)
        cdir = await self._container_dir(container_name)
        return await anyio.to_thread.run_sync(_existing_object, cdir, container_name, name)

    # --- containers --------------------------------------------------------------------------------

    async def iterate_containers(self) -> AsyncIterator[Container]:
        """Containers in name order."""
        base = await self._base()
        for name in await anyio.to_thread.run_sync(_container_names, base):
            yield self._container(name)

    async def get_container(self, container_name: str) -> Container:
        """The container named ``container_name``; ``ContainerNotFoundError`` if there is none."""
        await self._container_dir(container_name)
        return self._container(container_name)

    async def create_container(self, container_name: str) -> Container:
        """Create a container; ``ContainerAlreadyExistsError`` if the name is taken."""
        name = check_container_name(container_name)
        base = await self._base()
        try:
            await anyio.to_thread.run_sync(os.mkdir, base / name)
        except FileExistsError:
            raise ContainerAlreadyExistsError(
                f"container {name!r} already exists", provider=PROVIDER, code="ContainerAlreadyExists"
            ) from None
        return self._container(name)

    async def delete_container(self, container: Container) -> None:
        """Delete an empty container; ``ContainerNotEmptyError`` if it holds objects."""
        cdir = await self._container_dir(container.name)
        base = await self._base()
        await anyio.to_thread.run_sync(_delete_container, cdir, meta_dir(self._state(base), container.name))

    def _container(self, name: str) -> Container:
        return Container(name=name)._bind(self)

    # --- objects -----------------------------------------------------------------------------------

    async def iterate_container_objects(
        self, container: Container, *, prefix: str | None = None
    ) -> AsyncIterator[Object]:
        """Objects in name order (by code point, like S3's UTF-8 byte order), optionally under ``prefix``.

        The tree is walked lazily, one directory listing at a time, never loaded whole.
        """
        cdir = await self._container_dir(container.name)
        state = self._state(await self._base())
        pending: list[Iterator[tuple[str, bool]]] = []
        pending.append(iter(await anyio.to_thread.run_sync(_sorted_entries, cdir, "", prefix)))
        while pending:
            batch: list[str] = []
            descend: str | None = None
            for rel, is_dir in pending[-1]:
                if is_dir:
                    descend = rel
                    break
                batch.append(rel)
                if len(batch) >= _BATCH:
                    break
            else:
                pending.pop()
            if batch:
                for obj in await anyio.to_thread.run_sync(
                    self._build_objects, cdir, state, container.name, batch
                ):
                    yield obj
            if descend is not None:
                entries = await anyio.to_thread.run_sync(_sorted_entries, cdir, descend, prefix)
                pending.append(iter(entries))

    def _build_objects(self, cdir: Path, state: Path, container: str, names: list[str]) -> list[Object]:
        objects = []
        for name in names:
            try:
                st = os.stat(cdir / name)
            except OSError:
                continue  # removed since the directory was read
            if stat.S_ISREG(st.st_mode):
                objects.append(self._object(container, name, st, read_meta(state, container, name, st)))
        return objects

    def _object(self, container: str, name: str, st: os.stat_result, meta: Meta) -> Object:
        return Object(
            name=name,
            size=st.st_size,
            hash=meta.md5,
            content_type=meta.content_type or _guess_type(name),
            meta_data=meta.meta_data,
            container_name=container,
            last_modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
            extra={"modify_time": st.st_mtime},
        )._bind(self)

    async def get_object(self, container_name: str, object_name: str) -> Object:
        """One object's metadata; ``ObjectNotFoundError`` if it does not exist."""
        path, st = await self._object_file(container_name, object_name)
        state = self._state(await self._base())
        meta = await anyio.to_thread.run_sync(read_meta, state, container_name, object_name, st)
        if meta.md5 is None:  # a file put there by hand: hash it once, in a worker thread
            md5 = await anyio.to_thread.run_sync(_md5_of_file, path)
            meta = Meta(md5=md5, content_type=meta.content_type, meta_data=meta.meta_data)
        return self._object(container_name, object_name, st, meta)

    async def upload_object_via_stream(
        self,
        iterator: UploadSource,
        container: Container,
        object_name: str,
        *,
        content_type: str | None = None,
        meta_data: Mapping[str, str] | None = None,
    ) -> Object:
        """Write an object from bytes, a path, a binary file, or a sync/async iterable of bytes.

        The data streams to a staging file (MD5 computed on the way) and is renamed into place only when
        complete; concurrent writers of one name each land whole, the last one winning.
        """
        name = check_object_name(object_name)
        user_meta = _check_meta_data(meta_data)
        cdir = await self._container_dir(container.name)
        dest = cdir / name
        if not await anyio.to_thread.run_sync(inside, dest.parent, cdir):
            raise InvalidNameError(f"object name {name!r} leads outside container {container.name!r}")
        base = await self._base()
        staging = self._state(base) / "staging" / uuid.uuid4().hex
        hasher = StreamHasher("md5")
        chunks = hashed(iter_source(iterator, self.default_chunk_size), hasher)
        await write_stream_atomically(chunks, staging, overwrite=False, fsync=self._fsync)
        meta = Meta(
            md5=hasher.hexdigest("md5"), content_type=content_type or _guess_type(name), meta_data=user_meta
        )
        try:
            with anyio.CancelScope(shield=True):
                st = await anyio.to_thread.run_sync(
                    self._commit, staging, cdir, name, container.name, self._state(base), meta
                )
        finally:
            await anyio.to_thread.run_sync(_unlink_quietly, staging)
        return self._object(container.name, name, st, meta)

    def _commit(
        self, staging: Path, cdir: Path, name: str, container: str, state: Path, meta: Meta
    ) -> os.stat_result:
        dest = cdir / name
        with _COMMIT_LOCK:
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise ConflictError(
                    f"object {name!r} cannot be stored: a prefix of its name is an object",
                    provider=PROVIDER,
                    code="ObjectNameConflict",
                ) from None
            if not inside(dest.parent, cdir):
                raise InvalidNameError(f"object name {name!r} leads outside container {container!r}")
            if dest.is_dir() and not dest.is_symlink():
                raise ConflictError(
                    f"object {name!r} cannot be stored: other objects' names start with {name + '/'!r}",
                    provider=PROVIDER,
                    code="ObjectNameConflict",
                )
            os.replace(staging, dest)
            st = os.stat(dest)
            write_meta(state, container, name, st, meta)
            if self._fsync:
                _fsync_dir(dest.parent)
        return st

    def download_object_range_as_stream(
        self,
        obj: Object,
        start_bytes: int,
        end_bytes: int | None = None,
        *,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream bytes ``[start_bytes, end_bytes)`` (``end_bytes`` exclusive; ``None`` = to the end)."""
        check_range(start_bytes, end_bytes)
        size = chunk_size or self.default_chunk_size
        if size <= 0:
            raise ConfigurationError(f"chunk_size must be > 0, got {size}")
        return self._read(obj.container_name, obj.name, start_bytes, end_bytes, size)

    async def _read(
        self, container: str, name: str, start: int, end: int | None, chunk_size: int
    ) -> AsyncIterator[bytes]:
        path, st = await self._object_file(container, name)
        check_range(start, end, st.st_size)
        try:
            async with aclosing(read_file_range(path, start, end, chunk_size)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except FileNotFoundError:
            _not_found(container, name)

    async def delete_object(self, obj: Object) -> None:
        """Delete an object; ``ObjectNotFoundError`` if it does not exist."""
        path, _ = await self._object_file(obj.container_name, obj.name)
        cdir = await self._container_dir(obj.container_name)
        state = self._state(await self._base())
        await anyio.to_thread.run_sync(_delete_object, path, cdir, state, obj.container_name, obj.name)

    def _content_md5(self, obj: Object) -> str | None:
        return obj.hash


# --- blocking helpers, run in worker threads ----------------------------------------------------------


def _not_found(container: str, name: str) -> NoReturn:
    raise ObjectNotFoundError(
        f"object {name!r} not found in container {container!r}", provider=PROVIDER, code="NoSuchObject"
    )


def _existing_container(base: Path, name: str) -> Path:
    path = base / name
    if not path.is_dir():
        raise ContainerNotFoundError(
            f"container {name!r} not found", provider=PROVIDER, code="NoSuchContainer"
        )
    if not inside(path, base) or path.is_symlink():
        raise InvalidNameError(f"container {name!r} is a link that leads outside the storage root")
    return path


def _existing_object(cdir: Path, container: str, name: str) -> tuple[Path, os.stat_result]:
    path = cdir / name
    if not inside(path, cdir):
        raise InvalidNameError(f"object {name!r} leads outside container {container!r}")
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        _not_found(container, name)
    if not stat.S_ISREG(st.st_mode):
        _not_found(container, name)
    return path, st


def _container_names(base: Path) -> list[str]:
    with os.scandir(base) as entries:
        return sorted(e.name for e in entries if e.name != RESERVED and e.is_dir(follow_symlinks=False))


def _sorted_entries(cdir: Path, rel: str, prefix: str | None) -> list[tuple[str, bool]]:
    """One directory's entries as ``(object-name-relative path, is_dir)``, sorted as full names sort.

    A directory ``d`` sorts as ``d/`` so that ``a-b`` (``-`` < ``/``) comes before everything in ``a/``.
    Entries that cannot match ``prefix``, and symlinks to directories (loops), are left out.
    """
    directory = cdir / rel if rel else cdir
    found: list[tuple[str, bool]] = []
    try:
        entries = os.scandir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return found  # removed while being listed
    with entries:
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                sub = name + "/"
                if not prefix or sub.startswith(prefix) or prefix.startswith(sub):
                    found.append((name, True))
            elif (not prefix or name.startswith(prefix)) and (
                not entry.is_symlink() or inside(Path(entry.path), cdir)
            ):
                found.append((name, False))
    found.sort(key=lambda item: item[0] + "/" if item[1] else item[0])
    return found


def _delete_container(cdir: Path, meta: Path) -> None:
    with _COMMIT_LOCK:
        for _, _, files in os.walk(cdir):
            if files:
                raise ContainerNotEmptyError(
                    f"container {cdir.name!r} is not empty", provider=PROVIDER, code="ContainerNotEmpty"
                )
        shutil.rmtree(cdir)
        shutil.rmtree(meta, ignore_errors=True)


def _delete_object(path: Path, cdir: Path, state: Path, container: str, name: str) -> None:
    with _COMMIT_LOCK:
        try:
            path.unlink()
        except FileNotFoundError:
            _not_found(container, name)
        delete_meta(state, container, name)
        parent = path.parent
        while parent != cdir and cdir in parent.parents:
            try:
                parent.rmdir()
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    break
                raise
            parent = parent.parent


def _md5_of_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def _unlink_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    if os.name == "posix":
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _check_meta_data(meta_data: Mapping[str, Any] | None) -> dict[str, str]:
    if meta_data is None:
        return {}
    if not isinstance(meta_data, Mapping):
        raise ConfigurationError(f"meta_data must be a mapping of str to str, got {type(meta_data).__name__}")
    checked: dict[str, str] = {}
    for key, value in meta_data.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"meta_data keys must be non-empty strings, got {key!r}")
        if not isinstance(value, str):
            raise ConfigurationError(f"meta_data[{key!r}] must be a string, got {type(value).__name__}")
        checked[key] = value
    return checked
