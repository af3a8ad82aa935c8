"""The documentation site builds with warnings as errors, and its Results page quotes the committed
snapshot of a run's summaries exactly as ``homeoplastic.analysis.tables`` renders it."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

from homeoplastic.analysis.tables import claims_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS / "comparison"))


def test_the_site_builds_without_warnings(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    html = tmp_path / "html"
    pages = {p.relative_to(html).as_posix() for p in html.rglob("*.html")}
    assert {"index.html", "getting-started.html", "models/assemblies.html", "comparison/index.html",
            "engine.html", "api.html", "tutorials/open_a_sweep.html"} <= pages
    # the API page holds the docstrings, the tutorials their code, the results the snapshot
    assert "over_seeds" in (html / "api.html").read_text()
    tutorial = (html / "tutorials" / "open_a_sweep.html").read_text()
    assert "Reduce over seeds" in tutorial and tutorial.count('class="highlight-python') >= 5
    results = (html / "comparison" / "index.html").read_text()
    assert "training forms assemblies" in results and "cost reduction lies between" in results
    # equations typeset by MathJax from the site's own files, not from a CDN
    model = (html / "models" / "assemblies.html").read_text()
    assert "mathjax/tex-chtml.js" in model and "cdn.jsdelivr" not in model
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    figures = re.findall(r"\{figure\} figures/(\S+\.png)", (DOCS / "getting-started.md").read_text())
    assert len(figures) >= 5
    for figure in figures:
        assert (html / "_images" / figure).exists(), figure


def _block(text: str, marker: str) -> str:
    begin = text.index(f"<!-- BEGIN GENERATED {marker} ")
    return text[text.index("-->", begin) + 4:text.index(f"<!-- END GENERATED {marker} -->")]


def test_the_results_tables_are_the_snapshot_rendered():
    from snapshot import MARKERS

    from homeoplastic.analysis.summary import COLUMNS

    with open(DOCS / "comparison" / "data" / "summary.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS, "snapshot of an older format: rerun snapshot.py"
    page = (DOCS / "comparison" / "index.md").read_text()
    for marker, kinds in MARKERS.items():
        assert _block(page, marker) == claims_markdown(rows, tuple(kinds)), marker
    source = (DOCS / "comparison" / "data" / "source.yaml").read_text()
    assert re.search(r"stores_commit: [0-9a-f]{40}", source)
    assert re.search(r"summary_written_by_commit: [0-9a-f]{40}", source)
    assert (DOCS / "comparison" / "data" / "config.yaml").exists()


def test_percent_scripts_become_text_and_code():
    from percent import percent_to_myst

    script = "# ---\n# meta\n# ---\n\n# %% [markdown]\n# # Title\n#\n# Some *text*.\n\n# %%\nx = 1\n"
    assert percent_to_myst(script) == "# Title\n\nSome *text*.\n\n```python\nx = 1\n```\n"
