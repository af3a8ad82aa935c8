"""Pytest configuration shared by every test directory.

Only one setting lives here: matplotlib's backend defaults to Agg (``MPLBACKEND``), so test code
that draws through pyplot (the ``.plot()`` of the example in docs/data.md) never opens a window. The library's
figures use free-standing ``Figure`` objects and need no backend. Fixtures live beside the tests
that use them (``tests/workflow/conftest.py``: the micro sweep; ``tests/reduced/conftest.py``:
the reduced models; ``tests/assemblies/helpers.py``: quiet test networks).
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
