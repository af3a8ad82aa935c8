"""Shared pytest configuration: pinned seeds, a quiet engine, tiny networks."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
