"""Headless Chromium for the browser tests: find (or install) it, load a page, check what it drew.

The driver is the Chrome DevTools protocol over ``--remote-debugging-pipe`` (null-terminated JSON on
file descriptors 3 and 4): it needs no Python package beyond the standard library, opens no port and
reads what a screenshot alone cannot, the console, uncaught exceptions and each ``<img>``'s
``naturalWidth``. Playwright would do the same but adds a package and its Node.js driver (~100 MB).

``chromium()`` gives the browser's path or skips with the reason; when it is missing and the tests
run as root with ``CI=true`` it is installed from the Debian archive first. ``load_page(url)`` opens
one page and returns its problems and a screenshot; ``Browser`` keeps one browser for many pages.
``nonblank(png)`` tells a drawn screenshot from an empty one.
"""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("chromium", "chromium-browser", "google-chrome")
PACKAGES = ("chromium",)
APT_TIMEOUT_S = 900
# The flags that work on this kind of machine (closed network, root, no GPU, no screen).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe")
VIEWPORT = (1280, 900)
LOAD_TIMEOUT_S = 60.0
# A settled page: this long with no protocol message after the load event and the images' decode.
QUIET_S = 0.3
# Luma standard deviation (0..255) above which a screenshot counts as drawn. An empty page or a
# figure that drew nothing is uniform (0); a figure with axes, ticks and labels is far above 5.
MIN_STD = 2.0
MIN_FIGURE_PX = 24  # smaller <img>s are icons, not figures: checked for loading, not screenshotted

_TRAMPOLINE = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
               "os.execv(sys.argv[3], sys.argv[3:])")
_install_note: str | None = None  # why chromium could not be had, once per session


def _find() -> str | None:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _apt_install() -> str | None:
    """Install Debian's chromium with apt-get; None on success, else why not."""
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get unavailable (not a Debian-like system)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    for label, cmd in (("apt-get update", [apt, *lock, "update"]),
                       ("apt-get install", [apt, *lock, "install", "-y", "--no-install-recommends",
                                            *PACKAGES])):
        try:
            result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"{label} timed out after {APT_TIMEOUT_S} s (no network to the Debian archive?)"
        if result.returncode != 0:
            notes = [line for line in (result.stdout + result.stderr).splitlines()
                     if line.startswith(("W:", "E:"))]
            return f"{label} failed (no network to the Debian archive?): " + " ".join(notes)[-1500:]
    return None


def chromium() -> str:
    """Path of a Chromium executable, or ``pytest.skip`` with the reason.

    Missing Chromium is installed from the Debian archive only under CI (``CI=true``) as root; a
    developer's machine is never changed behind their back.
    """
    global _install_note
    path = _find()
    if path:
        return path
    if _install_note is None:
        if os.environ.get("CI") != "true" or os.geteuid() != 0:
            _install_note = ("chromium not found; install it (Debian: apt-get install chromium), or run "
                             "as root with CI=true to have the tests install it")
        else:
            start = time.monotonic()
            failure = _apt_install()
            path = _find()
            if path:
                print(f"installed {' '.join(PACKAGES)} in {time.monotonic() - start:.0f} s")
                return path
            _install_note = f"chromium not found and could not be installed: {failure or 'not on PATH'}"
    pytest.skip(_install_note)


class Page(NamedTuple):
    """What one page load found: its problems (empty when it is fine) and its screenshot."""

    errors: list[str]
    screenshot: Path


def nonblank(png: Path | bytes) -> bool:
    """Whether a PNG shows something: its luma varies (std above ``MIN_STD`` on 0..255)."""
    import matplotlib.image

    source = png if isinstance(png, Path) else io.BytesIO(png)
    image = np.asarray(matplotlib.image.imread(source, format="png"), dtype=float)
    if image.ndim == 3:
        rgb = image[..., :3]
        if image.shape[-1] == 4:  # composite on white, as the page shows it
            rgb = rgb * image[..., 3:] + (1.0 - image[..., 3:])
        image = rgb @ np.array([0.299, 0.587, 0.114])
    scale = 255.0 if image.max() <= 1.0 else 1.0
    return float(np.std(image * scale)) > MIN_STD


# JavaScript run in the page: waits for every <img> to finish (decoded or failed), then describes
# each, with its box in page coordinates for a clipped screenshot.
_IMAGES_JS = """
(async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });  // a lazy image below the fold loads too
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return imgs.map(i => {
    const r = i.getBoundingClientRect();
    return {src: (i.currentSrc || i.src || '').slice(0, 120), complete: i.complete,
            naturalWidth: i.naturalWidth, x: r.left + window.scrollX, y: r.top + window.scrollY,
            width: r.width, height: r.height};
  });
})()
"""


# The image results of a Snakemake report (its global ``results``: path -> {mime_type, data_uri}).
_REPORT_IMAGES_JS = "Object.keys(results).filter(p => results[p].mime_type.startsWith('image/')).sort()"
# Click a result's eye button (through its handler) and wait until its <img> is in the page.
_REPORT_SHOW_JS = """
(async (path) => {
  new ButtonViewManager(app).handleSelectedResult(path).props.onClick();
  const uri = results[path].data_uri;
  for (let i = 0; i < 200; i++) {
    if (Array.from(document.images).some(img => img.getAttribute('src') === uri)) return true;
    await new Promise(resolve => setTimeout(resolve, 25));
  }
  throw new Error('the report did not show ' + path);
})(%s)
"""


def _describe(event: dict[str, Any]) -> str | None:
    """The error an event reports, or None when it is not an error."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text", "")
        return f"exception: {text} ({details.get('url', '')}:{details.get('lineNumber', '')})"
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
        return f"console.{params['type']}: {args}"
    if method == "Log.entryAdded" and params["entry"].get("level") == "error":
        entry = params["entry"]
        return f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip()
    return None


class Browser:
    """One headless Chromium driven over the DevTools pipe; ``load(url)`` opens a page in a new tab."""

    def __init__(self, out_dir: Path | None = None) -> None:
        self.out_dir = Path(out_dir or tempfile.mkdtemp(prefix="browser-"))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # A Python trampoline puts the pipe ends on the descriptors Chromium reads (3: commands) and
        # writes (4: replies and events), then becomes the browser (a shell cannot: dash takes only
        # one-digit descriptors).
        cmd = [sys.executable, "-c", _TRAMPOLINE, str(to_browser_r), str(from_browser_w),
               chromium(), *FLAGS, f"--user-data-dir={self._profile.name}",
               f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "about:blank"]
        self._log = open(self.out_dir / "chromium.log", "wb")  # closed in close()
        self._proc = subprocess.Popen(cmd, pass_fds=(to_browser_r, from_browser_w),
                                      stdout=self._log, stderr=subprocess.STDOUT)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._count = 0

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """End the browser process and remove its profile."""
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()
        self._profile.cleanup()

    # ------------------------------------------------------------------------------ protocol
    def _receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message from the browser, or None after ``timeout`` seconds of silence."""
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium closed the DevTools pipe; see {self.out_dir / 'chromium.log'}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = LOAD_TIMEOUT_S) -> dict[str, Any]:
        """Call a DevTools method and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(max(0.0, deadline - time.monotonic()))
            if reply is None:
                raise TimeoutError(f"{method}: no answer within {timeout} s")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _wait_for(self, method: str, session: str, timeout: float) -> None:
        """Wait for an event of this session (it may have come already)."""
        if any(e.get("method") == method and e.get("sessionId") == session for e in self._events):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._receive(max(0.0, deadline - time.monotonic()))
            if event is None:
                break
            self._events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return
        raise TimeoutError(f"{method} not seen within {timeout} s")

    def _settle(self) -> None:
        """Collect events until the browser has been quiet for ``QUIET_S``."""
        while (event := self._receive(QUIET_S)) is not None:
            self._events.append(event)

    # ------------------------------------------------------------------------------ pages
    def _open(self, url: str) -> tuple[str, str, list[str]]:
        """A new tab showing ``url`` after its load event: (target, session, navigation errors)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._events.clear()
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(method, session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": VIEWPORT[0], "height": VIEWPORT[1],
                                                         "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        navigated = self.send("Page.navigate", {"url": url}, session=session)
        if navigated.get("errorText"):
            return target, session, [f"navigate: {navigated['errorText']} ({url})"]
        self._wait_for("Page.loadEventFired", session, LOAD_TIMEOUT_S)
        return target, session, []

    def evaluate(self, session: str, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        reply = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                               "returnByValue": True}, session=session)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:80]!r} threw: {reply['exceptionDetails']}")
        return reply.get("result", {}).get("value")

    def _inspect(self, session: str, stem: str) -> list[str]:
        """Errors logged since the last inspection, and the problems of every ``<img>`` shown now."""
        images = self.evaluate(session, _IMAGES_JS) or []
        self._settle()
        errors = [text for e in self._events if e.get("sessionId") == session
                  and (text := _describe(e)) is not None]
        self._events.clear()
        for index, image in enumerate(images):
            errors += self._check_image(session, image, self.out_dir / f"{stem}-img{index:02d}.png")
        return errors

    def load(self, url: str, name: str | None = None) -> Page:
        """Open ``url`` in a fresh tab and report console errors, exceptions and unrendered images.

        Every ``<img>`` must have loaded (``naturalWidth > 0``) and, when it is figure-sized, a
        screenshot clipped to it must be ``nonblank``. The whole page's screenshot is returned.
        """
        self._count += 1
        stem = name or f"page{self._count:03d}"
        target, session, errors = self._open(url)
        try:
            errors += self._inspect(session, stem)
            shot = self.send("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot = self.out_dir / f"{stem}.png"
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            return Page(errors, screenshot)
        finally:
            self.send("Target.closeTarget", {"targetId": target})

    def report_figures(self, url: str) -> list[tuple[str, list[str]]]:
        """Show each image result of a Snakemake report as its eye button does; (path, problems) each.

        The report is a single-page app: a figure is drawn only when the reader picks it, so each is
        shown in turn (``ButtonViewManager(app).handleSelectedResult(path).props.onClick()``, the
        button's own handler) and its ``<img>`` checked like any other.
        """
        target, session, errors = self._open(url)
        if errors:
            return [("<report>", errors)]
        try:
            paths = self.evaluate(session, _REPORT_IMAGES_JS)
            shown = []
            for index, path in enumerate(paths):
                self.evaluate(session, _REPORT_SHOW_JS % json.dumps(path))
                shown.append((path, self._inspect(session, f"report-figure{index:02d}")))
            return shown
        finally:
            self.send("Target.closeTarget", {"targetId": target})

    def _check_image(self, session: str, image: dict[str, Any], path: Path) -> list[str]:
        """Problems of one ``<img>``: not loaded, or drawn blank (its clipped screenshot is uniform)."""
        if not image["complete"] or image["naturalWidth"] == 0:
            return [f"image: did not load (naturalWidth 0): {image['src']}"]
        if min(image["width"], image["height"]) < MIN_FIGURE_PX:
            return []
        clip = {key: image[key] for key in ("x", "y", "width", "height")} | {"scale": 1}
        shot = self.send("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                    "captureBeyondViewport": True}, session=session)
        path.write_bytes(base64.b64decode(shot["data"]))
        return [] if nonblank(path) else [f"image: rendered blank: {image['src']} ({path})"]


def load_page(url: str, out_dir: Path | None = None) -> Page:
    """Open one page in a browser of its own: ``(errors, screenshot_png_path)``."""
    with Browser(out_dir) as browser:
        return browser.load(url)
