"""Inject small plausible bugs into a copy of the source tree and report which tests catch them.

Each mutation is one exact text replacement in one file under ``src/``. For each, the tree
(``src``, ``tests``, ``workflow``, ``config``, ``pyproject.toml``) is copied into a temporary
folder, the replacement applied there (the working tree is never touched), and the mutation's
tests run against the copy with its own Numba cache. One JSON line per mutation is printed:

    {"name": ..., "file": ..., "caught": true, "returncode": 1, "seconds": 84.2, "tests": [...]}

``caught`` is true when the tests fail; ``"applied": false`` means the text to replace was not
found (the source changed: update the mutation). The exit status is 1 when a mutation survives.

Run (about 2 min per mutation on 2 cores, most of it compiling the engine's kernels)::

    PYTHONPATH=src nice python benchmarks/mutations.py            # the default list
    PYTHONPATH=src python benchmarks/mutations.py --list          # names only
    PYTHONPATH=src python benchmarks/mutations.py stimulus_onset_late istdp_e_spike_unclipped

Add a mutation to ``MUTATIONS`` with the tests that should catch it; keep each one small and
plausible (an off-by-one, a dropped clip, a swapped bound), and prefer tests that check behaviour
over stored hashes, so that regenerating hashes cannot hide a bug.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # relative to the project root
    old: str
    new: str
    tests: tuple[str, ...]  # pytest node ids or paths, relative to the project root


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("stimulus_onset_late", "src/homeoplastic/assemblies/stimulus.py",
             "steps = np.concatenate([np.round(on), np.round(off)])",
             "steps = np.concatenate([np.round(on) + 1, np.round(off)])",
             ("tests/assemblies/test_behaviour.py",)),
    Mutation("stimulus_offset_early", "src/homeoplastic/assemblies/stimulus.py",
             "steps = np.concatenate([np.round(on), np.round(off)])",
             "steps = np.concatenate([np.round(on), np.round(off) - 1])",
             ("tests/assemblies/test_behaviour.py",)),
    Mutation("istdp_e_spike_unclipped", "src/homeoplastic/assemblies/kernels/step.py",
             "nrn.y_trace[n_exc + ie.pre_idx[syn]]\n"
             "                        if w > k.j_ie_max_pf:\n"
             "                            w = k.j_ie_max_pf\n",
             "nrn.y_trace[n_exc + ie.pre_idx[syn]]\n",
             ("tests/assemblies/test_behaviour.py",)),
    Mutation("reset_above_threshold_allowed", "src/homeoplastic/assemblies/params.py",
             "lambda p: p.exc.v_reset_mv < p.exc.v_thresh_rest_mv",
             "lambda p: p.exc.v_reset_mv < p.exc.v_thresh_rest_mv + 100",
             ("tests/assemblies/test_constraints.py",)),
    Mutation("nan_passes_config", "src/homeoplastic/config.py",
             "if isinstance(value, (float, np.floating)) and not math.isfinite(value):",
             "if isinstance(value, (float, np.floating)) and math.isinf(value):",
             ("tests/test_nonfinite.py",)),
    Mutation("checksum_ignores_content", "src/homeoplastic/store.py",
             "digest.update(len(data).to_bytes(8, \"little\") + data)",
             "digest.update(len(data).to_bytes(8, \"little\"))",
             ("tests/test_store_safety.py",)),
)


def _copy_tree(dest: Path) -> None:
    for name in ("src", "tests", "workflow", "config", "benchmarks"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dest / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    for name in ("pyproject.toml", "Snakefile", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)


def run_mutation(mutation: Mutation, *, timeout_s: float) -> dict:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"mutation-{mutation.name}-") as tmp:
        tree = Path(tmp)
        _copy_tree(tree)
        target = tree / mutation.file
        text = target.read_text()
        if text.count(mutation.old) != 1:
            return {"name": mutation.name, "file": mutation.file, "applied": False,
                    "caught": None, "found": text.count(mutation.old)}
        target.write_text(text.replace(mutation.old, mutation.new))
        env = {**os.environ, "PYTHONPATH": str(tree / "src"),
               "NUMBA_CACHE_DIR": str(tree / ".numba-cache"), "PYTHONDONTWRITEBYTECODE": "1"}
        cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
               *mutation.tests]
        try:
            proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True,
                                  timeout=timeout_s)
            code = proc.returncode
            tail = (proc.stdout.strip().splitlines() or [""])[-1]
        except subprocess.TimeoutExpired:
            code, tail = None, f"timeout after {timeout_s:g} s"
    # pytest: 0 all passed (survived), 1 tests failed (caught); anything else is an error
    return {"name": mutation.name, "file": mutation.file, "applied": True,
            "caught": code == 1, "returncode": code, "summary": tail,
            "seconds": round(time.perf_counter() - start, 1), "tests": list(mutation.tests)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print the mutations' names")
    parser.add_argument("--timeout-s", type=float, default=900.0,
                        help="time allowed for one mutation's tests")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name}: {m.file} -> {' '.join(m.tests)}")
        return 0
    known = {m.name: m for m in MUTATIONS}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown mutations {unknown}; known: {sorted(known)}")
    chosen = [known[n] for n in args.names] if args.names else list(MUTATIONS)
    survived = 0
    for mutation in chosen:
        result = run_mutation(mutation, timeout_s=args.timeout_s)
        survived += result["caught"] is not True
        print(json.dumps(result), flush=True)
    return 1 if survived else 0


if __name__ == "__main__":
    raise SystemExit(main())
