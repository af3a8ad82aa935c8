"""A Sphinx source parser for jupytext percent scripts (``docs/tutorials/*.py``).

The tutorials are plain Python files the tests execute; on the site each ``# %% [markdown]`` cell
becomes MyST text and each ``# %%`` cell a Python code block, so the page shows exactly the code
that ran. (``jupytext --to notebook`` opens the same files as notebooks.)
"""

from __future__ import annotations

from myst_parser.parsers.sphinx_ import MystParser
from sphinx.application import Sphinx


def percent_to_myst(source: str) -> str:
    """MyST Markdown of a percent script: markdown cells unprefixed, code cells fenced."""
    out: list[str] = []
    kind, cell = None, []

    def flush() -> None:
        body = "\n".join(cell).strip("\n")
        if not body:
            return
        if kind == "markdown":
            out.append("\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                                 for line in body.splitlines()))
        elif kind == "code":
            out.append(f"```python\n{body}\n```")

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, cell = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            cell.append(line)
    flush()
    return "\n\n".join(out) + "\n"


class PercentParser(MystParser):
    """MyST parser fed the Markdown of a percent script."""

    supported = ("percent",)

    def parse(self, inputstring: str, document) -> None:
        super().parse(percent_to_myst(inputstring), document)


def setup(app: Sphinx) -> dict[str, object]:
    app.add_source_parser(PercentParser)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
