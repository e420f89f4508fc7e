"""Answers a driver cannot read become :class:`~asynccloud.errors.ProviderError`, never a bare exception.

The JSON drivers read bodies through :mod:`asynccloud._json`, whose ``MalformedJson`` (a ``ValueError``) names
the field that was wrong; the others read with ``int(...)``, XML parsers and pydantic models. Whatever a
hostile or broken 200 (invalid JSON, a list where an object belongs, a missing key, ``null``, a string where a
number belongs, nesting too deep to decode) makes a driver raise (``MalformedJson``, ``KeyError``,
``TypeError``, ``ValidationError``, ``RecursionError``, ...), :func:`wrap_unreadable_verbs` wraps the public
verbs of an HTTP driver class so that such an exception, raised after the verb received a response
(:mod:`asynccloud._response_scope`), becomes ``ProviderError(code="MalformedResponse")`` naming the verb, the
status of the last answer and the original error (redacted, the original kept as ``__cause__``). An
exception raised before any response (a bug, or input the argument guards do not know) propagates unchanged,
and so does every :class:`~asynccloud.errors.AsyncCloudError`.

Verbs that run caller code inside them (upload sources, deployment steps) are not wrapped: an error from the
caller's iterator or script is the caller's, not the provider's. ``iterate_*`` verbs return an iterator whose
``__anext__`` is guarded the same way.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Final, Self

from asynccloud._json import MalformedJson
from asynccloud._response_scope import enter_scope, exit_scope, response_scope
from asynccloud.errors import AsyncCloudError, ProviderError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

__all__ = ["UNREADABLE", "wrap_unreadable_verbs"]

#: What reading a broken answer raises (``JSONDecodeError``, ``UnicodeDecodeError`` and pydantic's
#: ``ValidationError`` are ``ValueError`` s).
UNREADABLE: Final = (
    KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError, OverflowError,
)  # fmt: skip
#: Verbs that run the caller's code (sources, steps, callbacks) between requests.
_CALLER_CODE: Final = frozenset({"upload_object", "upload_object_via_stream", "deploy_node", "aclose"})
_WRAPPED: Final = "__asynccloud_unreadable__"


def _error(driver: Any, verb: str, exc: BaseException, status: int) -> ProviderError:
    # A MalformedJson (asynccloud._json) names the field and holds no value from the body.
    text = str(exc) if isinstance(exc, MalformedJson) else f"{type(exc).__name__}: {exc}"
    redact = getattr(getattr(driver, "_http", None), "redact", None)
    if callable(redact):
        text = redact(text)
    return ProviderError(
        f"{verb}: the provider's answer could not be read ({text[:200]})",
        provider=getattr(driver, "provider", None),
        status=status or None,
        code="MalformedResponse",
    )


class _GuardedIterator:
    """An ``iterate_*`` result whose ``__anext__`` turns unreadable answers into ``ProviderError``."""

    __slots__ = ("_driver", "_inner", "_verb")

    def __init__(self, inner: AsyncIterator[Any], driver: Any, verb: str) -> None:
        self._inner = inner
        self._driver = driver
        self._verb = verb

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        # Runs once per item of a listing: the scope is opened inline (no context manager) to keep it cheap.
        token, seen = enter_scope()
        try:
            return await self._inner.__anext__()
        except UNREADABLE as exc:
            if isinstance(exc, AsyncCloudError) or not seen[0]:
                raise
            raise _error(self._driver, self._verb, exc, seen[1]) from exc
        finally:
            if token is not None:
                exit_scope(token)

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()


def _wrap(verb: Callable[..., Any], name: str) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(verb):

        @functools.wraps(verb)
        async def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            with response_scope() as seen:
                try:
                    return await verb(self, *args, **kwargs)
                except UNREADABLE as exc:
                    if isinstance(exc, AsyncCloudError) or not seen[0]:
                        raise
                    raise _error(self, name, exc, seen[1]) from exc

    else:  # iterate_*: an async generator function, or a function returning an async iterator

        @functools.wraps(verb)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            return _GuardedIterator(verb(self, *args, **kwargs), self, name)

    setattr(guarded, _WRAPPED, True)
    return guarded


def wrap_unreadable_verbs(cls: type) -> None:
    """Wrap the public verbs ``cls`` itself defines (coroutines and ``iterate_*``); idempotent."""
    for name, verb in list(cls.__dict__.items()):
        if name.startswith("_") or name in _CALLER_CODE or getattr(verb, _WRAPPED, False):
            continue
        if not callable(verb) or getattr(verb, "__isabstractmethod__", False):
            continue
        if inspect.iscoroutinefunction(verb) or name.startswith("iterate_"):
            setattr(cls, name, _wrap(verb, name))
