"""Snakemake on a balancing-only config in a temporary folder, for the balancing workflow tests."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp: Path, name: str, cfg: dict) -> Path:
    cfg = copy.deepcopy(cfg)
    cfg["results_dir"] = str(tmp / "results")
    cfg["logs_dir"] = str(tmp / "logs")
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _snakemake(configfile: Path, *extra: str) -> str:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", str(configfile),
           *extra]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        raise AssertionError(res.stdout[-3000:] + res.stderr[-3000:])
    return res.stdout + res.stderr


def _scheduled(configfile: Path) -> dict[str, int]:
    """Rule -> job count of a dry run ({} when nothing is to be done)."""
    out = _snakemake(configfile, "-n")
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}
