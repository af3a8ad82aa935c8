"""A failed job's log says why even when it cannot be written; one workflow per results folder."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from homeoplastic.joblog import _LogWithFallback
from homeoplastic.locks import ResultsInUse, hold_results_lock

ROOT = Path(__file__).resolve().parents[1]


def test_the_log_gets_the_messages(tmp_path):
    fallback = io.StringIO()
    log = _LogWithFallback(tmp_path / "job.log", fallback)
    log.write("start\n")
    assert (tmp_path / "job.log").read_text() == "start\n" and fallback.getvalue() == ""


class _FullDisk(io.StringIO):
    def write(self, text):
        raise OSError(28, "No space left on device")


def test_a_log_that_cannot_be_written_falls_back_to_stderr_with_the_reason(tmp_path):
    fallback = io.StringIO()
    log = _LogWithFallback(tmp_path / "job.log", fallback)
    log.file = _FullDisk()  # the disk fills up after the log was opened
    log.write("Traceback: ValueError: bad\n")
    text = fallback.getvalue()
    assert "cannot write the job log" in text and "No space left" in text
    assert text.endswith("Traceback: ValueError: bad\n")
    missing = _LogWithFallback(tmp_path / "no" / "such" / "folder.log", fallback)
    missing.write("still said\n")
    assert fallback.getvalue().endswith("still said\n")


def test_a_traceback_reaches_stderr_when_the_log_folder_is_gone(tmp_path):
    code = ("from homeoplastic.joblog import log_to\n"
            f"log_to({str(tmp_path / 'gone' / 'job.log')!r})\n"
            "raise ValueError('the reason')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "cannot write the job log" in result.stderr and "the reason" in result.stderr


def test_a_second_workflow_on_one_results_folder_is_refused(tmp_path):
    held = hold_results_lock(tmp_path / "results")
    with pytest.raises(ResultsInUse, match=r"in use by another workflow \(pid \d+"):
        hold_results_lock(tmp_path / "results")
    held.close()  # the first one ends: the folder is free again
    hold_results_lock(tmp_path / "results").close()


def test_snakemake_refuses_a_results_folder_in_use_before_any_job(tmp_path):
    held = hold_results_lock(tmp_path / "results")
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile",
           str(ROOT / ".test/config.yaml"), "--config", f"results_dir={tmp_path / 'results'}",
           f"logs_dir={tmp_path / 'logs'}"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    held.close()
    assert result.returncode != 0
    assert "in use by another workflow" in result.stdout + result.stderr
    assert not (tmp_path / "results" / "assemblies").exists()
