"""The micro sweep (`.test/config.yaml`) run once per test session, and a Snakemake runner."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def run_snakemake(tmp: Path, *extra: str, configfiles: tuple[Path, ...] = (),
                  timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    """Snakemake on the micro config (plus overlays) with results and logs under ``tmp``."""
    files = [str(ROOT / ".test/config.yaml"), *map(str, configfiles)]
    cmd = [*SNAKEMAKE, "--cores", "2", *extra, "--configfile", *files,
           "--config", f"results_dir={tmp}/results", f"logs_dir={tmp}/logs"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(result.stdout[-4000:] + result.stderr[-4000:])
    return result


_JOB = re.compile(r"^(?:local)?rule (\w+):$")
_RUN = re.compile(r"^\s+wildcards: .*?run=([^,\s]+)")


def scheduled_jobs(dry_run_output: str) -> set[tuple[str, str]]:
    """(rule, run) of every job a dry run plans; run is '' for jobs without a run wildcard."""
    jobs: set[tuple[str, str]] = set()
    rule = None
    run = ""
    for line in dry_run_output.splitlines():
        match = _JOB.match(line.strip())
        if match:
            if rule is not None:
                jobs.add((rule, run))
            rule, run = match.group(1), ""
            continue
        found = _RUN.match(line)
        if found and rule is not None:
            run = found.group(1)
    if rule is not None:
        jobs.add((rule, run))
    return jobs


@pytest.fixture(scope="session")
def micro_run(tmp_path_factory) -> Path:
    """A finished micro sweep; tests must not change it (dry runs only)."""
    tmp = tmp_path_factory.mktemp("micro")
    run_snakemake(tmp)
    return tmp
