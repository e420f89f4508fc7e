"""The base of every asynccloud model: pydantic data plus an optional, private link to its driver."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, PrivateAttr

from asynccloud.errors import UnboundModelError

__all__ = ["CloudModel"]


class CloudModel(BaseModel):
    """Base class of all models.

    A model built by a driver remembers that driver in a private attribute, so its convenience methods
    (``await node.reboot()``) delegate in one line. The driver is never part of ``model_dump()``, JSON,
    ``repr`` or a pickle: what leaves the process is data only. A model without a driver (built by hand,
    or unpickled) raises :class:`~asynccloud.errors.UnboundModelError` from its convenience methods until
    ``driver.bind(model)`` re-attaches one.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        use_enum_values=False,
        ser_json_bytes="base64",
    )

    _driver: Any = PrivateAttr(default=None)

    def _bind(self, driver: Any) -> Self:
        self._driver = driver
        return self

    @property
    def is_bound(self) -> bool:
        """Whether a driver is attached, so convenience methods can run."""
        return self._driver is not None

    def _require_driver(self) -> Any:
        driver = self._driver
        if driver is None:
            raise UnboundModelError(
                f"this {type(self).__name__} is not attached to a driver; "
                "call driver.bind(model) before using its convenience methods"
            )
        return driver

    def __eq__(self, other: object) -> bool:
        # Equality is about data: a bound model equals its unbound (unpickled, hand-built) twin.
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable data is not hashable

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private:
            state["__pydantic_private__"] = {**private, "_driver": None}
        return state

    def __copy__(self) -> Self:
        copied = super().__copy__()
        copied._driver = self._driver
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        # A deep copy must not clone the driver (connections, credentials): the copy shares it.
        driver = self._driver
        self._driver = None
        try:
            copied = super().__deepcopy__(memo)
        finally:
            self._driver = driver
        copied._driver = driver
        return copied
