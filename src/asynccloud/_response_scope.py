"""Which driver calls have received a response: the scope that lets a driver blame an answer it cannot read.

A driver verb opens a :func:`response_scope`; :class:`~asynccloud._http.HttpClient` calls
:func:`note_response` for every response it hands back. When the verb then fails with a ``KeyError``,
``TypeError``, ``ValueError`` or the like, the scope says whether a response was involved (it was the
provider's answer the driver could not read) or not (a plain bug, raised as it is), and the status of the
last response (``box[1]``), for the error. Nested verbs share the
outermost scope. The state is a :class:`contextvars.ContextVar`, so concurrent tasks never see each other's.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["enter_scope", "exit_scope", "note_response", "response_scope"]

_SCOPE: ContextVar[list[int] | None] = ContextVar("asynccloud_response_scope", default=None)


def note_response(status: int = 0) -> None:
    """Count one response (with its status) in the current scope (nothing happens outside a scope)."""
    box = _SCOPE.get()
    if box is not None:
        box[0] += 1
        box[1] = status


def enter_scope() -> tuple[Token[list[int] | None] | None, list[int]]:
    """Open a scope without a context manager: ``(token, box)``; a non-``None`` token goes to exit_scope."""
    box = _SCOPE.get()
    if box is not None:
        return None, box
    box = [0, 0]
    return _SCOPE.set(box), box


def exit_scope(token: Token[list[int] | None]) -> None:
    """Close a scope opened by :func:`enter_scope`."""
    _SCOPE.reset(token)


@contextlib.contextmanager
def response_scope() -> Iterator[list[int]]:
    """A scope counting responses (``box[0]``; ``box[1]``: the last one's status); nested scopes share one."""
    box = _SCOPE.get()
    if box is not None:
        yield box
        return
    box = [0, 0]
    token = _SCOPE.set(box)
    try:
        yield box
    finally:
        _SCOPE.reset(token)
