"""Lazy public names for package faces: ``from homeoplastic.balancing import balance_costs`` works
as before, but importing the package alone loads none of its modules (numba, scipy, xarray).

Why: every workflow job is a fresh process, and a figure job that imports a package face for one
name should not pay for every model kernel behind it (see ``benchmarks/startup.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any],
                                                                 Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for ``package`` that import ``names`` (public name ->
    absolute module holding it) on first access and cache them in the package's namespace."""

    def __getattr__(name: str) -> Any:
        try:
            module = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        setattr(importlib.import_module(package), name, value)  # next access skips __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(importlib.import_module(package))) | set(names))

    return __getattr__, __dir__
