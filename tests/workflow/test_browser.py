"""The Snakemake report and the documentation site, opened in headless Chromium.

A reader sees the report and the docs in a browser, not as files on disk: a figure can be in the
HTML and still not draw (a broken ``src``, an empty image, a script that throws before it shows the
results). Each page must load without console errors or uncaught exceptions, every ``<img>`` must
load (``naturalWidth > 0``) and draw something (a screenshot clipped to it is not uniform), and the
page's own screenshot must not be blank. The helper (``tests/browser.py``) is first checked on tiny
pages that are broken on purpose, so a green run means the checks could have failed.

Chromium comes from ``chromium()``: installed from the Debian archive under CI as root when
missing, otherwise the tests skip with the reason.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser import Browser, chromium, load_page, nonblank

from .conftest import ROOT, run_snakemake

# Slow (deselected by the default ``-m 'not slow'``, so not in CI): run with ``pytest -m slow``.
pytestmark = pytest.mark.slow

DOCS = ROOT / "docs"
DOCS_TIMEOUT_S = 1800


# ------------------------------------------------------------------------- the helper bites
def _figure(path: Path, blank: bool = False) -> None:
    """A small PNG: a drawn line plot, or a uniformly white image of the same size."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2), dpi=80)
    ax = fig.add_subplot()
    if blank:
        ax.set_axis_off()
    else:
        ax.plot(np.sin(np.linspace(0, 6, 50)))
    fig.savefig(path)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    """Tiny local pages: one good, and one per fault the checks must catch."""
    folder = tmp_path_factory.mktemp("pages")
    _figure(folder / "plot.png")
    _figure(folder / "blank.png", blank=True)
    body = {
        "good": '<h1>fine</h1><img src="plot.png"><script>console.log("info is not an error")</script>',
        "broken_src": '<h1>broken</h1><img src="missing.png">',
        "corrupt_image": '<h1>corrupt</h1><img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA">',
        "js_error": '<h1>throws</h1><img src="plot.png"><script>notDefinedAnywhere()</script>',
        "console_error": '<h1>logs</h1><script>console.error("figure data missing")</script>',
        "blank_figure": '<h1>blank</h1><img src="blank.png">',
    }
    for name, html in body.items():
        (folder / f"{name}.html").write_text(f"<!doctype html><html><body>{html}</body></html>")
    (folder / "empty.html").write_text("<!doctype html><html><body></body></html>")
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Browser]:
    """One Chromium for the checks on the tiny pages."""
    with Browser(tmp_path_factory.mktemp("shots")) as session:
        yield session


def test_a_good_page_passes_and_its_screenshot_is_drawn(pages, tmp_path):
    errors, screenshot = load_page((pages / "good.html").as_uri(), tmp_path)
    assert errors == []
    assert nonblank(screenshot)


@pytest.mark.parametrize(("name", "expected"), [
    ("broken_src", "did not load"),
    ("corrupt_image", "did not load"),
    ("js_error", "notDefinedAnywhere"),
    ("console_error", "figure data missing"),
    ("blank_figure", "rendered blank"),
])
def test_each_fault_is_reported(pages, browser, name, expected):
    errors, _ = browser.load((pages / f"{name}.html").as_uri(), name)
    assert any(expected in error for error in errors), errors


def test_an_empty_page_is_blank_and_a_missing_page_is_an_error(pages, browser):
    errors, screenshot = browser.load((pages / "empty.html").as_uri(), "empty")
    assert errors == [] and not nonblank(screenshot)
    errors, _ = browser.load((pages / "absent.html").as_uri(), "absent")
    assert any(error.startswith("navigate:") for error in errors), errors


def test_without_chromium_it_installs_only_under_ci_as_root_else_skips_with_the_reason(monkeypatch):
    import browser as helper

    installs: list[bool] = []
    monkeypatch.setattr(helper, "_find", lambda: None)
    monkeypatch.setattr(helper, "_apt_install", lambda: installs.append(True) or "no archive here")
    for ci in ("", "true"):
        monkeypatch.setattr(helper, "_install_note", None)
        monkeypatch.setenv("CI", ci)
        with pytest.raises(pytest.skip.Exception) as skipped:
            chromium()
        assert "chromium not found" in str(skipped.value)
    assert installs == ([True] if helper.os.geteuid() == 0 else [])
    assert "no archive here" in str(skipped.value) or helper.os.geteuid() != 0


# ------------------------------------------------------------------------- the report
def _with_blank_figure(report: Path, name: str, blank_png: Path) -> Path:
    """A copy of a Snakemake report whose figure ``name`` is replaced by a uniformly white PNG."""
    html = report.read_text()
    match = re.search(r"^(\s*var results = )(\{.*\});$", html, flags=re.M)
    assert match, "no 'var results = {...};' line in the report"
    results = json.loads(match.group(2))
    (path,) = [p for p in results if Path(p).name == name]
    results[path]["data_uri"] = "data:image/png;base64," + base64.b64encode(blank_png.read_bytes()).decode()
    doctored = report.with_name(f"blank_{name}.html")
    doctored.write_text(html[:match.start(2)] + json.dumps(results) + html[match.end(2):])
    return doctored


def test_the_report_loads_and_every_figure_renders(micro_run, tmp_path):
    chromium()  # skip before building the report when there is no browser
    report = tmp_path / "report.html"
    run_snakemake(micro_run, "--report", str(report))
    _figure(tmp_path / "blank.png", blank=True)
    doctored = _with_blank_figure(report, "assemblies_sweep.png", tmp_path / "blank.png")
    with Browser(tmp_path / "shots") as browser:
        errors, screenshot = browser.load(report.as_uri(), "report")
        assert errors == [], errors
        assert nonblank(screenshot)
        shown = dict(browser.report_figures(report.as_uri()))
        spoiled = dict(browser.report_figures(doctored.as_uri()))
    names = {Path(path).name for path in shown}
    for name in ("assemblies_sweep.png", "assemblies_experiments.png", "assemblies_dt_check.png"):
        assert name in names, sorted(names)
    assert {path: problems for path, problems in shown.items() if problems} == {}
    # the same walk catches a figure that draws nothing, and only that one
    assert [Path(path).name for path, problems in spoiled.items() if problems] == ["assemblies_sweep.png"]


# ------------------------------------------------------------------------- the docs
def build_docs(dest: Path) -> Path:
    """Build the site into ``dest``, warnings as errors, as ``tests/test_docs_site.py`` does; its root.

    Sphinx by the command ``docs/conf.py`` names (``sphinx-build -W --keep-going``), or MkDocs with
    ``--strict``: the browser sees the site a reader would build, not a laxer one.
    """
    if (DOCS / "conf.py").exists():
        pytest.importorskip("sphinx", reason="Sphinx is not installed (the docs extra)")
        cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(DOCS), str(dest)]
    elif (ROOT / "mkdocs.yml").exists():
        pytest.importorskip("mkdocs", reason="MkDocs is not installed (the docs extra)")
        cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(dest)]
    else:
        pytest.skip("docs/conf.py or mkdocs.yml not found")
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=DOCS_TIMEOUT_S)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return dest


def test_every_docs_page_loads_and_every_figure_renders(tmp_path):
    if not (DOCS / "conf.py").exists() and not (ROOT / "mkdocs.yml").exists():
        pytest.skip("docs/conf.py or mkdocs.yml not found")
    chromium()
    site = build_docs(tmp_path / "site")
    html = sorted(p for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith("_"))
    assert html, f"the docs build wrote no HTML pages into {site}"
    failures: dict[str, list[str]] = {}
    with Browser(tmp_path / "shots") as browser:
        for index, page in enumerate(html):
            errors, screenshot = browser.load(page.as_uri(), f"doc{index:03d}")
            if not nonblank(screenshot):
                errors = [*errors, f"page screenshot is blank ({screenshot})"]
            if errors:
                failures[str(page.relative_to(site))] = errors
    assert failures == {}, failures
