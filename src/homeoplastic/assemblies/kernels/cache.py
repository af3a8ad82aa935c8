"""Keep Numba's on-disk kernel cache in step with the kernel sources.

Numba keys each cached function on its own source file only, so a kernel that calls into another
module (the step calls fastexp, voltage, drive, reductions, ...) would keep its old machine code
when only that other module changed: after an upgrade the engine could silently run old code.
:func:`refresh_stale_caches` stamps a digest of every kernel source next to the cache and flushes
every kernel's cache when the digest differs, so the next call recompiles.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STAMP_NAME = "homeoplastic-kernels.sha256"
_PACKAGE = "homeoplastic.assemblies.kernels"


def sources_digest(directory: Path = Path(__file__).parent) -> str:
    """SHA-256 over the names and contents of the package's Python sources."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def kernel_dispatchers() -> list[Any]:
    """Every cached Numba function defined in the kernel package's loaded modules."""
    found = {}
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(_PACKAGE + "."):
            continue
        for value in vars(module).values():
            if getattr(getattr(value, "_cache", None), "_cache_path", None) is not None:
                found[id(value)] = value
    return list(found.values())


def refresh_stale_caches(dispatchers: Iterable[Any] | None = None,
                         digest: str | None = None) -> bool:
    """Flush the caches of ``dispatchers`` (default: every kernel) if the sources changed.

    Returns True when something was flushed. A read-only cache directory is left alone (Numba
    then cannot write a cache there either).
    """
    dispatchers = list(kernel_dispatchers() if dispatchers is None else dispatchers)
    digest = sources_digest() if digest is None else digest
    by_dir: dict[Path, list[Any]] = {}
    for dispatcher in dispatchers:
        by_dir.setdefault(Path(dispatcher._cache._cache_path), []).append(dispatcher)
    flushed = False
    for directory, members in by_dir.items():
        stamp = directory / STAMP_NAME
        try:
            if stamp.is_file() and stamp.read_text() == digest:
                continue
            for dispatcher in members:
                _drop_cache(dispatcher)
            directory.mkdir(parents=True, exist_ok=True)
            stamp.write_text(digest)
            flushed = True
        except OSError:
            continue
    return flushed


def index_path(dispatcher: Any) -> str | None:
    """Path of a cached Numba function's on-disk index (None if Numba does not expose it)."""
    cache = getattr(dispatcher, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    return index if isinstance(index, str) else None


def _drop_cache(dispatcher: Any) -> None:
    """Remove the function's cache index (so "no cache yet" stays detectable), else flush it."""
    index = index_path(dispatcher)
    if index is not None:
        Path(index).unlink(missing_ok=True)
    else:
        dispatcher._cache.flush()
