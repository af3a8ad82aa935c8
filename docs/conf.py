"""Sphinx configuration of the documentation site (``sphinx-build -W --keep-going docs OUT``).

Sphinx with MyST: the model pages are Markdown with LaTeX equations, autodoc reads the API from
the docstrings, and the tutorials are jupytext percent scripts rendered by ``_ext/percent.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent / "src"))  # the clone's source first, as the tests use it

project = "homeoplastic"
author = "the homeoplastic authors"
copyright = "2026, the homeoplastic authors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    # MathJax served from the site itself, not a CDN: the pages typeset offline (this machine
    # and many clusters have no internet), and the browser test sees no failed load
    "sphinx-mathjax-offline",
    "percent",
]
source_suffix = {".md": "markdown", ".py": "percent"}
root_doc = "index"
exclude_patterns = ["_build", "conf.py", "_ext", "comparison/*.py", "comparison/data/*.md",
                    "**/__pycache__", ".ipynb_checkpoints"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"

html_theme = "furo"
html_title = "homeoplastic"
html_static_path: list[str] = []
