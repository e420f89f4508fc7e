"""Sidecar metadata of the local storage driver: content type, user metadata and MD5 per object.

Each object's metadata lives in ``<root>/.asynccloud/meta/<container>/<sha256 of name>.json``: a flat layout
whatever the object name, so no object name can collide with a metadata path. A record remembers the
size, modification time and inode of the data file it describes; a record that does not match its file
(the file was replaced by hand, or by a writer in another process) is ignored rather than trusted.
All functions here are blocking and are called from worker threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Meta", "meta_dir", "meta_path", "read_meta", "write_meta"]


@dataclass(frozen=True)
class Meta:
    """What the driver remembers about an object beyond its bytes."""

    md5: str | None = None
    content_type: str | None = None
    meta_data: dict[str, str] = field(default_factory=dict)


def meta_dir(state_dir: Path, container: str) -> Path:
    """The metadata directory of one container."""
    return state_dir / "meta" / container


def meta_path(state_dir: Path, container: str, name: str) -> Path:
    """The metadata file of one object."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return meta_dir(state_dir, container) / digest[:2] / f"{digest}.json"


def _fingerprint(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def read_meta(state_dir: Path, container: str, name: str, st: os.stat_result) -> Meta:
    """The metadata of an object whose data file has stat ``st``; empty when missing or stale."""
    try:
        raw = meta_path(state_dir, container, name).read_bytes()
        data: dict[str, Any] = json.loads(raw)
    except (OSError, ValueError):
        return Meta()
    if data.get("name") != name or data.get("file") != _fingerprint(st):
        return Meta()
    meta_data = data.get("meta_data") or {}
    return Meta(
        md5=data.get("md5"),
        content_type=data.get("content_type"),
        meta_data={str(k): str(v) for k, v in meta_data.items()},
    )


def write_meta(state_dir: Path, container: str, name: str, st: os.stat_result, meta: Meta) -> None:
    """Atomically record ``meta`` for the data file whose stat is ``st``."""
    path = meta_path(state_dir, container, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "name": name,
        "file": _fingerprint(st),
        "md5": meta.md5,
        "content_type": meta.content_type,
        "meta_data": meta.meta_data,
    }
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def delete_meta(state_dir: Path, container: str, name: str) -> None:
    """Forget an object's metadata (missing is fine)."""
    meta_path(state_dir, container, name).unlink(missing_ok=True)
