"""A job's log that still says why the job failed when its file cannot be written.

Every workflow script sends its messages (and an uncaught exception's traceback) to its rule's log
with :func:`log_to`. If the log cannot be written (a full disk, a vanished folder), the messages
go on to the job's own standard error, which Snakemake shows, with one line saying which log
could not be written and why: a failed job never leaves only an empty log behind.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO


class _LogWithFallback(io.TextIOBase):
    """A text stream that writes to a log file, and to ``fallback`` once the file fails."""

    def __init__(self, path: str | os.PathLike[str], fallback: TextIO) -> None:
        self.path, self.fallback = str(path), fallback
        self.failed: OSError | None = None
        try:
            self.file: TextIO | None = open(path, "w", buffering=1)
        except OSError as err:
            self.file = None
            self._fail(err)

    def _fail(self, err: OSError) -> None:
        self.failed = err
        self.fallback.write(f"[homeoplastic] cannot write the job log {self.path} ({err}); "
                            "its messages follow here\n")

    def write(self, text: str) -> int:
        if self.file is not None and self.failed is None:
            try:
                self.file.write(text)
                self.file.flush()
                return len(text)
            except OSError as err:
                self._fail(err)
        self.fallback.write(text)
        self.fallback.flush()
        return len(text)

    def flush(self) -> None:
        if self.file is not None and self.failed is None:
            try:
                self.file.flush()
            except OSError as err:
                self._fail(err)
        self.fallback.flush()

    def writable(self) -> bool:
        return True


def log_to(path: str | os.PathLike[str]) -> TextIO:
    """Send this process's standard error to the job log ``path`` (line by line), falling back
    to the original standard error when the log cannot be written."""
    stream = _LogWithFallback(path, sys.__stderr__ or sys.stderr)
    sys.stderr = stream  # type: ignore[assignment]
    return stream  # type: ignore[return-value]
