"""Refresh the Results page's data: the summaries of a finished run, with the config and commits
that made them, copied into ``docs/comparison/data/`` and rendered into ``docs/comparison/index.md``.

Results are not in git, so the site quotes a committed snapshot instead of numbers copied by hand:

    python docs/comparison/snapshot.py RESULTS_DIR [--config CONFIG]

``RESULTS_DIR`` is a run's ``results/`` folder (its checkout's commit is recorded when it is a git
work tree). ``summary.csv`` is rewritten from the run's analysis stores by this checkout's
:func:`homeoplastic.analysis.summary.write_summary`, so the table has today's columns even for
stores of an older run; ``balancing_summary.csv`` is copied as the run wrote it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from homeoplastic.analysis import tables
from homeoplastic.analysis.summary import write_summary

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = HERE / "data"
PAGE = HERE / "index.md"
# the page's generated blocks: marker name -> row kinds of summary.csv
MARKERS = {"claims": ["claim"], "other-rows": ["descriptive", "method", "rule"]}


def commit_of(path: Path) -> str:
    """The git commit checked out where ``path`` lies (``unknown`` outside a work tree)."""
    out = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                         text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "") \
        if out.returncode == 0 else "unknown"


def snapshot(results: Path, config: Path | None) -> dict[str, str]:
    """Write the snapshot and its ``source.yaml``; returns what it recorded."""
    DATA.mkdir(parents=True, exist_ok=True)
    assemblies = results / "assemblies"
    optional = {name: assemblies / f"{name}.zarr" for name in ("rate_dependence", "dt_check")}
    write_summary(sorted(assemblies.glob("*/analyze.zarr")), DATA / "summary.csv",
                  *(p if p.exists() else None for p in optional.values()))
    if (results / "balancing_summary.csv").exists():
        shutil.copyfile(results / "balancing_summary.csv", DATA / "balancing_summary.csv")
    config = config or results.parent / "config" / "config.yaml"
    shutil.copyfile(config, DATA / "config.yaml")
    source = {
        "stores": str(results.resolve()),
        "stores_commit": commit_of(results),
        "config": str(config),
        "summary_written_by_commit": commit_of(REPO),
        "command": f"python docs/comparison/snapshot.py {results}",
    }
    (DATA / "source.yaml").write_text(yaml.safe_dump(source, sort_keys=False))
    for marker, kinds in MARKERS.items():  # relative path: the page names its source portably
        tables.main([str((DATA / "summary.csv").relative_to(REPO)), "--into", str(PAGE),
                     "--marker", marker, "--kinds", *kinds])
    return source


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a finished run's results/ folder")
    parser.add_argument("--config", type=Path, default=None,
                        help="the config the run used (default: RESULTS/../config/config.yaml)")
    args = parser.parse_args(argv)
    args.results, args.config = args.results.resolve(), args.config and args.config.resolve()
    os.chdir(REPO)
    print(yaml.safe_dump(snapshot(args.results, args.config), sort_keys=False), end="")


if __name__ == "__main__":
    main()
