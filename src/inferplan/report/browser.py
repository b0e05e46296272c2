"""Open a report in headless Chromium and check it the way a reader's browser would see it.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: NUL-terminated JSON on
file descriptors 3 and 4) rather than a WebSocket port: no extra dependency, no port to pick or race for
when several test runs share a machine, and the browser exits when the pipe closes. One `Browser` serves
many pages; each `check()` opens a fresh tab, records console errors, uncaught exceptions and every network
request, waits until each chart has drawn, measures the time to render, and takes a screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InferplanError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Counted after the page's load event, once Plotly has drawn: charts, and how many of them have a non-empty
# SVG (a drawn trace: a path with a non-empty `d`, or bars/points).
_PROBE = """
(async () => {
  const charts = Array.from(document.querySelectorAll('.js-plotly-plot'));
  const drawn = (c) => Array.from(c.querySelectorAll('svg.main-svg .trace path, svg.main-svg .trace rect'))
      .some((p) => (p.getAttribute('d') || '').length > 4 || (p.getAttribute('width') || '0') !== '0');
  const t0 = performance.now();
  while (charts.some((c) => !drawn(c)) && performance.now() - t0 < 5000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return JSON.stringify({
    charts: charts.length,
    drawn: charts.filter(drawn).length,
    empty: charts.filter((c) => !drawn(c)).map((c) => c.id),
    sections: Array.from(document.querySelectorAll('section[id]')).map((s) => s.id),
    rendered_ms: performance.now(),
    title: document.title,
    height: document.documentElement.scrollHeight,
  });
})()
"""


class BrowserError(InferplanError):
    """Chromium is missing, did not start, or did not answer."""


def find_chromium() -> str:
    """The Chromium binary: $INFERPLAN_CHROMIUM, else the first of CANDIDATES on PATH."""
    env = os.environ.get("INFERPLAN_CHROMIUM")
    if env:
        return env
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError("no Chromium found: run `make chromium` (apt-get install chromium) or set INFERPLAN_CHROMIUM")


@dataclass
class PageCheck:
    """What one report looked like in the browser."""

    url: str
    charts: int
    drawn: int
    empty: list[str]
    sections: list[str]
    console_errors: list[str]
    requests: list[str]
    render_ms: float
    height: int
    title: str
    screenshot: bytes = field(repr=False)

    @property
    def foreign_requests(self) -> list[str]:
        """Requests for anything but the report file itself."""
        return [u for u in self.requests if u != self.url]


class Browser:
    """One headless Chromium process, spoken to over the DevTools pipe."""

    def __init__(self, binary: str | None = None, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self._profile = tempfile.TemporaryDirectory(prefix="inferplan-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        args = [binary or find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--mute-audio",
                "--window-size=1280,900", "about:blank"]
        # the browser reads commands on fd 3 and writes answers on fd 4 (bash, not sh: dash cannot name fd > 9)
        # its stderr goes to a file: a pipe nobody reads would fill and stall the browser
        self._log = open(Path(self._profile.name) / "chromium.log", "w+b")  # noqa: SIM115 - closed in close()
        self._proc = subprocess.Popen(["bash", "-c", f'exec "$@" 3<&{to_child_r} 4>&{from_child_w}', "bash", *args],
                                      pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=self._log)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.version = self.send("Browser.getVersion")["product"]

    # -- protocol ------------------------------------------------------------------------------------------
    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")[-2000:]
                raise BrowserError(f"Chromium closed the DevTools pipe: {err.strip()}")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._next_id:
                if "error" in m:
                    raise BrowserError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            self._events.append(m)

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        while True:
            for i, e in enumerate(self._events):
                if e.get("method") == method and e.get("sessionId") == session:
                    return self._events.pop(i)
            self._events.append(self._read_message(deadline))

    # -- one page ------------------------------------------------------------------------------------------
    def check(self, path: Path, *, width: int = 1280, height: int = 900, scale: float = 1.0,
              full_page: bool = False) -> PageCheck:
        """Open `path` in a new tab; wait for its charts; return what happened and a PNG screenshot."""
        url = Path(path).resolve().as_uri()
        target = self.send("Target.createTarget", {"url": "about:blank"})
        sid = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
        self._events = [e for e in self._events if e.get("sessionId") != sid]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=sid)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=sid)
        t0 = time.monotonic()
        self.send("Page.navigate", {"url": url}, session=sid)
        self.wait_event("Page.loadEventFired", sid)
        probe = self.send("Runtime.evaluate", {"expression": _PROBE, "awaitPromise": True, "returnByValue": True},
                          session=sid)
        if "exceptionDetails" in probe:
            raise BrowserError(f"probe failed: {probe['exceptionDetails'].get('text')}")
        render_ms = (time.monotonic() - t0) * 1000
        info = json.loads(probe["result"]["value"])
        shot_params: dict[str, Any] = {"format": "png"}
        if full_page or scale != 1.0:
            h = info["height"] if full_page else height
            shot_params.update(clip={"x": 0, "y": 0, "width": width, "height": h, "scale": scale},
                               captureBeyondViewport=full_page)
        shot = base64.b64decode(self.send("Page.captureScreenshot", shot_params, session=sid)["data"])
        errors, requests = self._drain(sid)
        self.send("Target.closeTarget", {"targetId": target["targetId"]})
        return PageCheck(url=url, charts=info["charts"], drawn=info["drawn"], empty=info["empty"],
                         sections=info["sections"], console_errors=errors, requests=requests, render_ms=render_ms,
                         height=info["height"], title=info["title"], screenshot=shot)

    def print_pdf(self, path: Path) -> bytes:
        """The page printed to PDF (A4, backgrounds on), after its charts have drawn."""
        url = Path(path).resolve().as_uri()
        target = self.send("Target.createTarget", {"url": "about:blank"})
        sid = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
        self.send("Page.enable", session=sid)
        self.send("Page.navigate", {"url": url}, session=sid)
        self.wait_event("Page.loadEventFired", sid)
        self.send("Runtime.evaluate", {"expression": _PROBE, "awaitPromise": True, "returnByValue": True}, session=sid)
        pdf = base64.b64decode(self.send("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True},
                                         session=sid)["data"])
        self._drain(sid)
        self.send("Target.closeTarget", {"targetId": target["targetId"]})
        return pdf

    def _drain(self, sid: str) -> tuple[list[str], list[str]]:
        errors: list[str] = []
        requests: list[str] = []
        rest = []
        for e in self._events:
            if e.get("sessionId") != sid:
                rest.append(e)
                continue
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                errors.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                errors.append(p["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                requests.append(p.get("request", {}).get("url", ""))
        self._events = rest
        return errors, requests

    def close(self) -> None:
        try:  # asking is faster than closing the pipe and waiting for Chromium to notice
            os.write(self._to_child, json.dumps({"id": -1, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        try:
            os.close(self._to_child)
        except OSError:
            pass
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._from_child)
        self._log.close()
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
