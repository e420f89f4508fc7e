"""Byte streams shared by the storage drivers: upload sources, rechunking, on-the-fly hashing, local files.

Nothing here knows a provider. A driver turns whatever the user hands it into chunks with
:func:`iter_source`, learns the size up front (to choose a single PUT or a multipart upload) with
:func:`source_length`, hashes while sending with :func:`hashed`, and lands downloads on disk with
:func:`write_stream_atomically`::

    hasher = StreamHasher("md5")
    size = source_length(source)
    async for part in hashed(iter_source(source, chunk_size=part_size), hasher):
        ...  # send the part
    etag = hasher.hexdigest("md5")

Memory stays bounded by the chunk size whatever the size of the source: nothing is read ahead, and
rechunking keeps at most one partial chunk in a ``bytearray``. Blocking file I/O never runs on the event
loop: paths are read with :func:`anyio.open_file`, and binary file objects through worker threads.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import hashlib
import io
import os
import re
import stat
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeAlias

import anyio
import anyio.lowlevel
import anyio.to_thread

from asynccloud.errors import ConfigurationError, DestinationExistsError, IntegrityError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "HashFactory",
    "HashObject",
    "StreamHasher",
    "UploadSource",
    "hashed",
    "is_partial_name",
    "iter_source",
    "read_file_range",
    "register_hash_algorithm",
    "source_length",
    "write_stream_atomically",
]

DEFAULT_CHUNK_SIZE = 1 << 20
"""Chunk size used when a caller does not choose one: 1 MiB."""

UploadSource: TypeAlias = (
    bytes
    | bytearray
    | memoryview
    | str
    | os.PathLike[str]
    | BinaryIO
    | Iterable[bytes | bytearray | memoryview]
    | AsyncIterable[bytes | bytearray | memoryview]
)
"""Everything an upload accepts.

* ``bytes``, ``bytearray``, ``memoryview``: the data itself.
* ``str`` or ``os.PathLike`` (e.g. :class:`pathlib.Path`): the path of a local file to upload. A ``str``
  is **always a path**, never data: encode text yourself (``text.encode()``). ``~`` is not expanded.
* a binary file object (``open(path, "rb")``, :class:`io.BytesIO`, ...): read from its current position
  to its end; it is not closed. Text-mode files are rejected.
* a sync iterable of bytes-like chunks (a generator, a list): consumed in place, in the event loop's
  thread, so it must not block.
* an async iterable of bytes-like chunks (an async generator, an httpx download stream).
"""

# Sync iterables are consumed on the event loop; a source of many empty or tiny chunks must still
# let other tasks run (and let cancellation in), so yield to the scheduler every this many pieces.
_CHECKPOINT_EVERY = 256


# --------------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------------


class _Kind(enum.Enum):
    BUFFER = enum.auto()
    PATH = enum.auto()
    FILE = enum.auto()
    ITERABLE = enum.auto()
    ASYNC_ITERABLE = enum.auto()


def _classify(source: object) -> _Kind:
    if isinstance(source, bytes | bytearray | memoryview):
        return _Kind.BUFFER
    if isinstance(source, str | os.PathLike):
        return _Kind.PATH
    if isinstance(source, io.TextIOBase):
        raise ConfigurationError(
            f"upload source {type(source).__name__} is a text file; open the file in binary mode ('rb')"
        )
    # Before the file check: an anyio AsyncFile has an async ``read`` and is an async iterable.
    if hasattr(source, "__aiter__"):
        return _Kind.ASYNC_ITERABLE
    if callable(getattr(source, "read", None)):
        return _Kind.FILE
    if isinstance(source, Iterable):
        return _Kind.ITERABLE
    raise ConfigurationError(
        f"cannot upload from a {type(source).__name__}: expected bytes, a path, a binary file object, "
        "or a sync or async iterable of bytes"
    )


def _check_chunk_size(chunk_size: int) -> None:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ConfigurationError(f"chunk_size must be a positive int, got {chunk_size!r}")


def _byte_view(data: object, what: str) -> memoryview:
    """Return a flat, byte-format view of a bytes-like chunk, or raise a clear error."""
    if not isinstance(data, bytes | bytearray | memoryview):
        hint = " (encode text before uploading it)" if isinstance(data, str) else ""
        raise ConfigurationError(f"{what} must be bytes-like, got {type(data).__name__}{hint}")
    view = memoryview(data)
    if view.format == "B" and view.ndim == 1:
        return view
    if view.c_contiguous:
        return view.cast("B")
    return memoryview(view.tobytes())


class _Rechunker:
    """Cuts pieces of any size into chunks of exactly ``size`` bytes, holding at most one partial chunk."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._buffer = bytearray()

    def feed(self, data: object, what: str) -> Iterator[bytes]:
        size = self._size
        with _byte_view(data, what) as view:
            total = len(view)
            pos = 0
            if self._buffer:
                missing = size - len(self._buffer)
                if total < missing:
                    self._buffer += view
                    return
                self._buffer += view[:missing]
                pos = missing
                chunk = bytes(self._buffer)
                self._buffer.clear()
                yield chunk
            if pos == 0 and total == size and isinstance(data, bytes):
                yield data  # the common case of well-sized reads: no copy at all
                return
            while total - pos >= size:
                yield bytes(view[pos : pos + size])
                pos += size
            if pos < total:
                self._buffer += view[pos:]

    def flush(self) -> Iterator[bytes]:
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            yield chunk


async def _aclose(iterator: object) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


def iter_source(source: UploadSource, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
    """Iterate over the bytes of an upload source in chunks of exactly ``chunk_size``.

    Every chunk is ``bytes`` of exactly ``chunk_size`` bytes, except the last, which may be shorter; an
    empty chunk is never yielded (an empty source yields nothing). The source's type and ``chunk_size``
    are checked when this is called; the source is read only while iterating. An iterator the source
    produced for us (an async generator, ...) is closed when iteration ends, also early.

    Args:
        source: See :data:`UploadSource`.
        chunk_size: Size of the chunks to yield, in bytes.

    Returns:
        An async generator of chunks (close it with :func:`contextlib.aclosing` when stopping early).

    Raises:
        ConfigurationError: ``chunk_size`` is not positive, the source is of an unsupported type or a text
            file, or (while iterating) a chunk or a ``read()`` result is not bytes-like.
        OSError: While iterating, a path cannot be opened or read.
    """
    _check_chunk_size(chunk_size)
    kind = _classify(source)
    if kind is _Kind.BUFFER:
        return _iter_buffer(source, chunk_size)
    if kind is _Kind.PATH:
        return read_file_range(source, chunk_size=chunk_size)  # type: ignore[arg-type]
    if kind is _Kind.FILE:
        return _iter_file(source, chunk_size)
    if kind is _Kind.ASYNC_ITERABLE:
        return _iter_async(source, chunk_size)  # type: ignore[arg-type]
    return _iter_sync(source, chunk_size)  # type: ignore[arg-type]


async def _iter_buffer(data: object, chunk_size: int) -> AsyncGenerator[bytes, None]:
    rechunker = _Rechunker(chunk_size)
    for chunk in rechunker.feed(data, "upload source"):
        yield chunk
    for chunk in rechunker.flush():
        yield chunk


async def _iter_file(fileobj: Any, chunk_size: int) -> AsyncGenerator[bytes, None]:
    # BytesIO lives in memory: reading it cannot block, so skip the thread hop.
    in_memory = isinstance(fileobj, io.BytesIO)
    rechunker = _Rechunker(chunk_size)
    while True:
        if in_memory:
            data = fileobj.read(chunk_size)
            await anyio.lowlevel.checkpoint()
        else:
            data = await anyio.to_thread.run_sync(fileobj.read, chunk_size)
        if isinstance(data, str):
            raise ConfigurationError(
                f"{type(fileobj).__name__}.read() returned str: open the file in binary mode ('rb')"
            )
        if data is None:
            raise ConfigurationError(f"{type(fileobj).__name__}.read() returned None (non-blocking file?)")
        if not data:
            break
        for chunk in rechunker.feed(data, f"{type(fileobj).__name__}.read() result"):
            yield chunk
    for chunk in rechunker.flush():
        yield chunk


async def _iter_sync(iterable: Iterable[object], chunk_size: int) -> AsyncGenerator[bytes, None]:
    rechunker = _Rechunker(chunk_size)
    iterator = iter(iterable)
    try:
        quiet = 0
        for piece in iterator:
            produced = False
            for chunk in rechunker.feed(piece, "chunk of the upload source"):
                produced = True
                yield chunk
            if produced:
                quiet = 0
            else:
                quiet += 1
                if quiet >= _CHECKPOINT_EVERY:
                    quiet = 0
                    await anyio.lowlevel.checkpoint()
        for chunk in rechunker.flush():
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


async def _iter_async(iterable: AsyncIterable[object], chunk_size: int) -> AsyncGenerator[bytes, None]:
    rechunker = _Rechunker(chunk_size)
    iterator = aiter(iterable)
    try:
        async for piece in iterator:
            for chunk in rechunker.feed(piece, "chunk of the upload source"):
                yield chunk
        for chunk in rechunker.flush():
            yield chunk
    finally:
        await _aclose(iterator)


def source_length(source: UploadSource) -> int | None:
    """Return the number of bytes an upload source will produce, when known without reading it.

    Known for bytes-likes, for paths of regular files (one ``os.stat``, metadata only) and for seekable
    binary files (from their current position to their end). Unknown (``None``) for iterables, pipes and
    other unseekable streams.

    Args:
        source: See :data:`UploadSource`.

    Returns:
        The length in bytes, or ``None``.

    Raises:
        ConfigurationError: The source is of an unsupported type or a text file.
        OSError: A path does not exist or cannot be examined.
    """
    kind = _classify(source)
    if kind is _Kind.BUFFER:
        return memoryview(source).nbytes  # type: ignore[arg-type]
    if kind is _Kind.PATH:
        st = os.stat(source)  # type: ignore[arg-type]
        return st.st_size if stat.S_ISREG(st.st_mode) else None
    if kind is _Kind.FILE:
        return _file_remaining(source)
    return None


def _file_remaining(fileobj: Any) -> int | None:
    try:
        if isinstance(fileobj, io.BytesIO):
            with fileobj.getbuffer() as buffer:
                return max(0, buffer.nbytes - fileobj.tell())
        try:
            st = os.fstat(fileobj.fileno())
        except (AttributeError, OSError, ValueError):
            st = None  # no descriptor (io.UnsupportedOperation is an OSError): fall back to seeking
        if st is not None:
            if not stat.S_ISREG(st.st_mode):
                return None
            return max(0, st.st_size - int(fileobj.tell()))
        if not fileobj.seekable():
            return None
        position = int(fileobj.tell())
        end = int(fileobj.seek(0, io.SEEK_END))
        fileobj.seek(position)
        return max(0, end - position)
    except (AttributeError, OSError, ValueError):
        return None


# --------------------------------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------------------------------


class HashObject(Protocol):
    """What a hash plug-in must provide: the subset of :mod:`hashlib`'s interface asynccloud uses."""

    def update(self, data: ReadableBuffer, /) -> None:
        """Feed more bytes."""

    def digest(self) -> bytes:
        """Return the digest of everything fed so far, without disturbing the state."""


HashFactory: TypeAlias = Callable[[], HashObject]

_HASH_PLUGINS: dict[str, HashFactory] = {}


def register_hash_algorithm(name: str, factory: HashFactory) -> None:
    """Make a non-hashlib algorithm (e.g. ``"crc32c"``) available to :class:`StreamHasher`.

    Args:
        name: The name callers pass to :class:`StreamHasher` (case-insensitive).
        factory: Returns a fresh :class:`HashObject` on each call.
    """
    _HASH_PLUGINS[name.lower()] = factory


def _new_hash(name: str) -> HashObject:
    plugin = _HASH_PLUGINS.get(name)
    if plugin is not None:
        return plugin()
    try:
        # usedforsecurity=False: MD5 here is an integrity checksum (ETag, Content-MD5), and FIPS builds
        # refuse md5 without it.
        obj = hashlib.new(name, usedforsecurity=False)
    except ValueError:
        raise ConfigurationError(f"unknown hash algorithm {name!r}") from None
    if obj.digest_size == 0:  # shake_*: variable-length digests need a length we do not have
        raise ConfigurationError(f"hash algorithm {name!r} has no fixed digest size")
    return obj


class StreamHasher:
    """Several digests and the byte count of a stream, computed while it passes by.

    Example::

        hasher = StreamHasher("md5", "sha256")
        async for chunk in hashed(source_chunks, hasher):
            await send(chunk)
        hasher.hexdigest("md5"), hasher.size

    Args:
        *algorithms: :mod:`hashlib` names (``"md5"``, ``"sha256"``, ...) or names registered with
            :func:`register_hash_algorithm`. Case-insensitive; duplicates are ignored. None at all is
            allowed and only counts bytes.

    Raises:
        ConfigurationError: An algorithm is unknown.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, *algorithms: str) -> None:
        self._hashes: dict[str, HashObject] = {}
        for name in algorithms:
            key = name.lower()
            if key not in self._hashes:
                self._hashes[key] = _new_hash(key)
        self._size = 0

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The (lower-cased) algorithm names being computed."""
        return tuple(self._hashes)

    @property
    def size(self) -> int:
        """Number of bytes fed so far."""
        return self._size

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        """Feed a chunk to every algorithm."""
        with memoryview(chunk) as view:
            for h in self._hashes.values():
                h.update(view)
            self._size += view.nbytes

    def digest(self, name: str) -> bytes:
        """Return the raw digest of algorithm ``name`` over everything fed so far.

        Raises:
            ConfigurationError: ``name`` was not requested when the hasher was made.
        """
        try:
            return self._hashes[name.lower()].digest()
        except KeyError:
            raise ConfigurationError(
                f"hash {name!r} is not being computed (have: {', '.join(self._hashes) or 'none'})"
            ) from None

    def hexdigest(self, name: str) -> str:
        """Return the digest of algorithm ``name`` as lower-case hex (an S3 ETag, a Swift ETag)."""
        return self.digest(name).hex()

    def b64digest(self, name: str) -> str:
        """Return the digest of algorithm ``name`` in base64 (``Content-MD5``, ``x-amz-checksum-*``)."""
        return base64.b64encode(self.digest(name)).decode("ascii")

    def __repr__(self) -> str:
        return f"StreamHasher({', '.join(map(repr, self._hashes))}, size={self._size})"


async def hashed(chunks: AsyncIterable[bytes], hasher: StreamHasher) -> AsyncGenerator[bytes, None]:
    """Pass ``chunks`` through unchanged, feeding each one to ``hasher`` on the way.

    The digests are complete once the iteration has ended. The wrapped iterator is closed when this one
    ends or is closed.

    Args:
        chunks: The stream to hash.
        hasher: Receives every chunk before it is yielded.

    Yields:
        The chunks of ``chunks``.
    """
    iterator = aiter(chunks)
    try:
        async for chunk in iterator:
            hasher.update(chunk)
            yield chunk
    finally:
        await _aclose(iterator)


# --------------------------------------------------------------------------------------------------
# Local files
# --------------------------------------------------------------------------------------------------


def read_file_range(
    path: str | os.PathLike[str],
    start: int = 0,
    end: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> AsyncGenerator[bytes, None]:
    """Read bytes ``[start, end)`` of a local file in chunks of exactly ``chunk_size``.

    The last chunk may be shorter; an empty chunk is never yielded.
    Reads happen in worker threads; the file is opened when iteration starts and closed when it ends,
    fails or is closed early. A range past the end of the file is cut at the end (possibly to nothing).

    Args:
        path: The file to read.
        start: Offset of the first byte.
        end: Offset one past the last byte, or ``None`` for the end of the file.
        chunk_size: Size of the chunks to yield, in bytes.

    Returns:
        An async generator of chunks (close it with :func:`contextlib.aclosing` when stopping early).

    Raises:
        ConfigurationError: ``start``, ``end`` or ``chunk_size`` is invalid (checked at the call).
        OSError: While iterating, the file cannot be opened or read.
    """
    _check_chunk_size(chunk_size)
    if start < 0:
        raise ConfigurationError(f"start must be >= 0, got {start}")
    if end is not None and end < start:
        raise ConfigurationError(f"end must be >= start, got start={start}, end={end}")
    return _read_file_range(path, start, end, chunk_size)


async def _read_file_range(
    path: str | os.PathLike[str], start: int, end: int | None, chunk_size: int
) -> AsyncGenerator[bytes, None]:
    remaining = None if end is None else end - start
    if remaining == 0:
        return
    rechunker = _Rechunker(chunk_size)
    async with await anyio.open_file(path, "rb") as f:
        if start:
            await f.seek(start)
        while remaining is None or remaining > 0:
            data = await f.read(chunk_size if remaining is None else min(chunk_size, remaining))
            if not data:
                break
            if remaining is not None:
                remaining -= len(data)
            for chunk in rechunker.feed(data, "file data"):
                yield chunk
    for chunk in rechunker.flush():
        yield chunk


_PARTIAL_RE = re.compile(r"\A\..*\.[0-9a-f]{32}\.part\Z", re.DOTALL)


def _partial_path(dest: Path) -> Path:
    # Keep the temporary name within the usual 255-byte limit however long the destination's name is.
    return dest.with_name(f".{dest.name[:100]}.{uuid.uuid4().hex}.part")


def is_partial_name(name: str) -> bool:
    """Whether a file name is one of :func:`write_stream_atomically`'s temporary files.

    Drivers listing a directory (the local storage driver) use it to hide writes in progress.
    """
    return _PARTIAL_RE.match(name) is not None


def _remove_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)


def _exists_error(dest: Path) -> DestinationExistsError:
    return DestinationExistsError(f"destination {str(dest)!r} exists and overwriting was not asked for")


def _commit(tmp: Path, dest: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, dest)
        return
    try:
        # link() fails if dest exists, atomically: no window where a concurrent writer is clobbered.
        os.link(tmp, dest)
    except FileExistsError:
        raise _exists_error(dest) from None
    except OSError:
        # The filesystem has no hard links: fall back to check-then-rename (racy, but the best there is).
        if os.path.lexists(dest):
            raise _exists_error(dest) from None
        os.replace(tmp, dest)
        return
    _remove_quietly(tmp)


def _discard(tmp: Path, keep_as: Path | None) -> None:
    # Runs while another exception propagates: a cleanup problem must not replace it.
    with contextlib.suppress(OSError):
        if keep_as is not None:
            try:
                os.replace(tmp, keep_as)
            except FileNotFoundError:
                return  # failed before the temporary file was created: nothing to keep
            except OSError:
                pass
            else:
                return
        _remove_quietly(tmp)


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def write_stream_atomically(
    chunks: AsyncIterable[bytes],
    dest: str | os.PathLike[str],
    *,
    overwrite: bool,
    fsync: bool = False,
    expected_size: int | None = None,
    check: Callable[[int], None] | None = None,
    keep_partial: bool = False,
) -> int:
    """Write a stream to ``dest`` so that ``dest`` either gets all of it or is left as it was.

    The data goes to a temporary file next to ``dest`` (``.{name}.{random}.part``, see
    :func:`is_partial_name`) which is renamed into place only after every check passed. On any failure
    or cancellation the temporary file is removed (or, with ``keep_partial``, renamed to
    ``{name}.part``) and ``dest`` is untouched. The stream is closed when this returns. Memory use is one
    chunk.

    To verify a hash, wrap the stream with :func:`hashed` and compare in ``check``::

        hasher = StreamHasher("md5")

        def verify(size: int) -> None:
            if hasher.hexdigest("md5") != etag:
                raise IntegrityError("MD5 mismatch")

        await write_stream_atomically(hashed(body, hasher), path, overwrite=True, check=verify)

    Args:
        chunks: The data.
        dest: The final path; its directory must exist.
        overwrite: Whether an existing ``dest`` may be replaced. If not, an existing ``dest`` raises
            :class:`DestinationExistsError` before the stream is read, and the final step does not
            clobber a file that appeared meanwhile.
        fsync: Flush the file (and, on POSIX, the directory entry) to stable storage before returning.
        expected_size: The number of bytes the stream must produce; a longer stream fails as soon as it
            overflows.
        check: Called with the byte count after all data is written and before the rename; raise
            (typically :class:`IntegrityError`) to discard the data.
        keep_partial: On failure or cancellation, keep the data received so far as ``{name}.part``
            beside ``dest`` (replacing an older one), never under ``dest`` itself: Libcloud's
            ``delete_on_failure=False``.

    Returns:
        The number of bytes written.

    Raises:
        DestinationExistsError: ``overwrite`` is false and ``dest`` exists.
        IntegrityError: The size differs from ``expected_size``.
        OSError: The file cannot be written or renamed.
    """
    dest = Path(dest)
    tmp = _partial_path(dest)
    keep_as = dest.with_name(f"{dest.name}.part") if keep_partial else None
    written = 0
    iterator = aiter(chunks)
    f: anyio.AsyncFile[bytes] | None = None
    try:
        try:
            if not overwrite and await anyio.to_thread.run_sync(os.path.lexists, dest):
                raise _exists_error(dest)
            f = await anyio.open_file(tmp, "xb")
            async for chunk in iterator:
                if not chunk:
                    continue
                written += len(chunk)
                if expected_size is not None and written > expected_size:
                    raise IntegrityError(
                        f"stream for {dest.name} is longer than the expected {expected_size} bytes"
                    )
                await f.write(chunk)
            if fsync:
                await f.flush()
                await anyio.to_thread.run_sync(os.fsync, f.wrapped.fileno())
        finally:
            await _aclose(iterator)
        await f.aclose()
        f = None
        if expected_size is not None and written != expected_size:
            raise IntegrityError(
                f"stream for {dest.name} ended after {written} of the expected {expected_size} bytes"
            )
        if check is not None:
            check(written)
        # Once the rename starts it must finish and be reported as done, not as cancelled.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_commit, tmp, dest, overwrite)
            if fsync:
                await anyio.to_thread.run_sync(_fsync_directory, dest.parent)
    except BaseException:
        with anyio.CancelScope(shield=True):
            if f is not None:
                await f.aclose()
            await anyio.to_thread.run_sync(_discard, tmp, keep_as)
        raise
    return written
