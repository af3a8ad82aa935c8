"""Markdown tables from a results table, so a README or docs page quotes a run's summary instead
of numbers copied by hand:  ``python -m homeoplastic.analysis.tables results/summary.csv``.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Mapping
from pathlib import Path


def _ci(row: Mapping[str, str]) -> str:
    low, high = row.get("ci_low", "nan"), row.get("ci_high", "nan")
    return "" if low in ("", "nan") else f"[{low}, {high}]"


def claims_markdown(rows: Iterable[Mapping[str, str]], kinds: tuple[str, ...] = ("claim",),
                    rules: tuple[str, ...] | None = None) -> str:
    """A Markdown table of the rows of ``kinds`` (and ``rules``): claim, point, measured with its
    CI and n, the null with its mean, the paper, the verdict."""
    lines = ["| fig. | claim | point | measured [95 % CI] (n) | null: mean | paper | agrees |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("kind") not in kinds or (rules and r.get("rule") not in rules):
            continue
        point = r["run"].replace("n_neurons~", "N = ").replace("_rule~", ", ").replace(
            "_learning_speed~", ", speed ")
        measured = f"{r['measured']} {_ci(r)} (n = {r.get('n', '')})".replace("  ", " ")
        null = f"{r.get('null', '')}: {r.get('null_value', '')}"
        cells = [r["figure"], r["claim"], point, measured, null, r["paper"], r["agrees"]]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def replace_between_markers(text: str, marker: str, table: str, source: str) -> str:
    """``text`` with the lines between ``<!-- BEGIN GENERATED <marker> ...-->`` and
    ``<!-- END GENERATED <marker> -->`` replaced by ``table`` (a page quotes a run's table
    without anyone copying numbers by hand); both markers must be there."""
    begin, end = f"<!-- BEGIN GENERATED {marker} ", f"<!-- END GENERATED {marker} -->"
    if begin not in text or end not in text:
        raise ValueError(f"markers for {marker!r} not found: add '{begin}...-->' and '{end}'")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return (f"{head}{begin}from {source} by `python -m homeoplastic.analysis.tables`; do not "
            f"edit -->\n{table}{end}{tail}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table", type=Path, help="a summary.csv written by the workflow")
    parser.add_argument("--kinds", nargs="+", default=["claim"],
                        help="row kinds to list: claim, method, descriptive, rule")
    parser.add_argument("--rules", nargs="*", default=None, help="only these rules")
    parser.add_argument("--into", type=Path, default=None,
                        help="write the table into this Markdown file between its markers")
    parser.add_argument("--marker", default="claims", help="the markers' name (with --into)")
    args = parser.parse_args(argv)
    with open(args.table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = claims_markdown(rows, tuple(args.kinds), tuple(args.rules) if args.rules else None)
    if args.into is None:
        print(table, end="")
        return
    text = replace_between_markers(args.into.read_text(), args.marker, table, str(args.table))
    tmp = args.into.with_name(args.into.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(args.into)


if __name__ == "__main__":
    main()
