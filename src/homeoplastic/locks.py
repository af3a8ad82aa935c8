"""One workflow at a time per results folder.

Snakemake locks its working directory, so two clones (two working directories) pointed at one
``results_dir`` would otherwise write into the same stores and logs at once. The workflow's main
process holds an exclusive lock on ``<results_dir>/.homeoplastic.lock`` for as long as it runs
(released by the operating system when the process ends, also when it is killed).
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from typing import TextIO

LOCK_FILE = ".homeoplastic.lock"


class ResultsInUse(RuntimeError):
    """Another workflow holds the results folder."""


def hold_results_lock(results_dir: str | os.PathLike[str]) -> TextIO:
    """Lock ``results_dir`` for this process, or raise :class:`ResultsInUse` saying who holds it.

    Keep the returned handle open for as long as the lock should hold."""
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / LOCK_FILE, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ResultsInUse(
            f"results folder {folder} is in use by another workflow ({holder}); wait for it to "
            "finish or choose another results_dir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    handle.flush()
    return handle
