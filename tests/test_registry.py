"""get_driver: lazy resolution, caching, third-party registration and clear errors."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING

import pytest

import asynccloud._registry as registry
from asynccloud import ConfigurationError, DriverType, Provider, get_driver, register_driver
from asynccloud.drivers.base import StorageDriver
from asynccloud.drivers.local import LocalStorageDriver

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    saved = (dict(registry._registered), dict(registry._resolved), registry._entry_points_loaded)
    yield
    registry._registered.clear()
    registry._registered.update(saved[0])
    registry._resolved.clear()
    registry._resolved.update(saved[1])
    registry._entry_points_loaded = saved[2]


def test_enums_are_str_enums() -> None:
    assert DriverType.STORAGE.value == "storage"
    assert Provider.LOCAL.value == "local"
    assert isinstance(Provider.LOCAL, str)


def test_get_driver_returns_the_class() -> None:
    cls = get_driver(DriverType.STORAGE, Provider.LOCAL)
    assert cls is LocalStorageDriver
    assert get_driver("storage", "LOCAL") is cls


def test_driver_satisfies_its_protocol(tmp_path: object) -> None:
    driver = get_driver(DriverType.STORAGE, Provider.LOCAL)(str(tmp_path))
    assert isinstance(driver, StorageDriver)


def test_resolution_is_lazy() -> None:
    code = (
        "import sys\n"
        "from asynccloud import get_driver, DriverType, Provider\n"
        "assert 'asynccloud.drivers.local.storage' not in sys.modules\n"
        "get_driver(DriverType.STORAGE, Provider.LOCAL)\n"
        "assert 'asynccloud.drivers.local.storage' in sys.modules\n"
        "assert 'asyncssh' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_combination_lists_what_exists() -> None:
    with pytest.raises(ConfigurationError) as info:
        get_driver(DriverType.DNS, Provider.LOCAL)
    message = str(info.value)
    assert "no dns driver for provider 'local'" in message
    assert "(storage, local)" in message


def test_unknown_driver_type() -> None:
    with pytest.raises(ConfigurationError, match="unknown driver type 'teleport'"):
        get_driver("teleport", Provider.LOCAL)


class _FakeDriver:
    pass


def test_one_provider_serves_several_driver_types() -> None:
    register_driver(DriverType.COMPUTE, "acme", _FakeDriver)
    register_driver(DriverType.DNS, "acme", "tests.test_registry:_FakeDriver")
    compute: object = get_driver(DriverType.COMPUTE, "acme")
    dns: object = get_driver(DriverType.DNS, "acme")
    assert compute is _FakeDriver
    assert dns is _FakeDriver
    assert (DriverType.COMPUTE, "acme") in registry.available_drivers()


def test_bad_target_is_a_configuration_error() -> None:
    register_driver(DriverType.STORAGE, "broken", "no_such_module_xyz:Driver")
    with pytest.raises(ConfigurationError, match="cannot load driver 'no_such_module_xyz:Driver'"):
        get_driver(DriverType.STORAGE, "broken")


def test_entry_points_register_third_party_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [
        EntryPoint(
            name="thirdcloud:storage", value="tests.test_registry:_FakeDriver", group="asynccloud.drivers"
        )
    ]

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        assert group == "asynccloud.drivers"
        return eps

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    registry._entry_points_loaded = False
    resolved: object = get_driver(DriverType.STORAGE, "thirdcloud")
    assert resolved is _FakeDriver


def test_badly_named_entry_point_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [EntryPoint(name="thirdcloud", value="x:y", group="asynccloud.drivers")]
    monkeypatch.setattr(registry, "entry_points", lambda *, group: eps)
    registry._entry_points_loaded = False
    with pytest.raises(ConfigurationError, match="must be named '<provider>:<driver type>'"):
        get_driver(DriverType.STORAGE, "thirdcloud")
