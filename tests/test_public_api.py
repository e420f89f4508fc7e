"""The curated public surface: sorted ``__all__``, nothing private leaking, cheap import."""

from __future__ import annotations

import subprocess
import sys
import types

import asynccloud
import asynccloud.errors
import asynccloud.models


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", module.__name__).startswith("asynccloud")
    }


def test_all_is_sorted_and_complete() -> None:
    assert asynccloud.__all__ == sorted(asynccloud.__all__)
    exported = set(asynccloud.__all__) - {"__version__"}
    assert exported == _public_names(asynccloud)


def test_every_error_is_exported_at_the_top() -> None:
    assert set(asynccloud.errors.__all__) <= set(asynccloud.__all__)
    for name in asynccloud.errors.__all__:
        assert getattr(asynccloud, name) is getattr(asynccloud.errors, name)


def test_models_all_is_sorted_and_complete() -> None:
    assert asynccloud.models.__all__ == sorted(asynccloud.models.__all__)
    assert set(asynccloud.models.__all__) == _public_names(asynccloud.models)


def test_errors_all_is_sorted_and_complete() -> None:
    assert asynccloud.errors.__all__ == sorted(asynccloud.errors.__all__)
    assert set(asynccloud.errors.__all__) == _public_names(asynccloud.errors)


def test_import_is_cheap() -> None:
    code = (
        "import sys, asynccloud\n"
        "heavy = ('asyncssh', 'asynccloud.drivers', 'httpx', 'respx')\n"
        "bad = sorted(m for m in sys.modules if m.startswith(heavy))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
