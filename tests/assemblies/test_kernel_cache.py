"""The kernel cache is flushed when any kernel source changes (Numba keys a cache on its own file)."""

from __future__ import annotations

from pathlib import Path

from homeoplastic.assemblies import kernels
from homeoplastic.assemblies.kernels.cache import (
    STAMP_NAME,
    kernel_dispatchers,
    refresh_stale_caches,
    sources_digest,
)


class _FakeCache:
    def __init__(self, path: Path) -> None:
        self._cache_path = str(path)
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1


class _FakeDispatcher:
    def __init__(self, path: Path) -> None:
        self._cache = _FakeCache(path)


def test_a_changed_source_digest_flushes_every_kernel_once(tmp_path):
    kernels_ = [_FakeDispatcher(tmp_path), _FakeDispatcher(tmp_path)]
    assert refresh_stale_caches(kernels_, digest="old") is True  # no stamp yet
    assert (tmp_path / STAMP_NAME).read_text() == "old"
    assert refresh_stale_caches(kernels_, digest="old") is False  # unchanged: cache kept
    assert [k._cache.flushes for k in kernels_] == [1, 1]
    assert refresh_stale_caches(kernels_, digest="new") is True  # e.g. fastexp.py edited
    assert [k._cache.flushes for k in kernels_] == [2, 2]


def test_the_digest_covers_every_kernel_module_and_the_step_is_a_cached_kernel(tmp_path):
    (tmp_path / "step.py").write_text("a = 1\n")
    (tmp_path / "fastexp.py").write_text("b = 1\n")
    before = sources_digest(tmp_path)
    (tmp_path / "fastexp.py").write_text("b = 2\n")  # only a module the step imports changes
    assert sources_digest(tmp_path) != before
    assert kernels._advance in kernel_dispatchers()


def test_a_stale_index_file_is_removed_not_emptied(tmp_path):
    """Removing (not emptying) the index keeps "this kernel has no cache yet" detectable."""
    index = tmp_path / "step._advance-1.py311.nbi"
    index.write_text("stale")
    fake = _FakeDispatcher(tmp_path)
    fake._cache._cache_file = type("File", (), {"_index_path": str(index)})()
    assert refresh_stale_caches([fake], digest="new") is True
    assert not index.exists() and fake._cache.flushes == 0
