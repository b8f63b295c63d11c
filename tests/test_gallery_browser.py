"""`deerimg gallery` in a real browser (issue 21): headless Chromium shows a 20-image run's page.

Chromium loads a copy of the page with one probe script added (allowed by its hash in the
page's Content-Security-Policy, as the page's own script is): once the page has loaded it waits
for every image to decode, types into the filter box, and writes what it saw into the DOM, which
`--dump-dom` prints. Skipped, saying why, where Chromium is not installed or cannot start.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ledger_entries

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
HOSTILE = "<img src=x onerror=\"window.pwned='img'\"><script>window.pwned='script'</script>"
PROBE = """
window.alert = function () { window.pwned = "alert"; };
window.addEventListener("load", function () {
  // The window is tall enough for every card: a lazy image in view loads before "load" fires.
  var images = Array.prototype.slice.call(document.images);
  var seen = {images: images.length, pwned: window.pwned || null, title: document.title};
  seen.loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var box = document.getElementById("filter");
  box.value = "FOX";
  box.dispatchEvent(new Event("input"));
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
  seen.visible = cards.filter(function (card) { return !card.hidden; }).length;
  seen.counter = document.getElementById("shown").textContent;
  seen.prompts = Array.prototype.map.call(document.querySelectorAll(".prompt"),
    function (p) { return p.textContent; });
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
});
""".strip()


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium to render the gallery (apt-get install chromium; .ci/run does)")


def chromium(page: Path, *more: str) -> subprocess.CompletedProcess[str]:
    args = [browser(), "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run",
            "--disable-dev-shm-usage", "--allow-file-access-from-files",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000",
            "--window-size=1200,9000", *more, page.absolute().as_uri()]  # fmt: skip
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=90, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"Chromium could not run here: {exc}")
    if done.returncode != 0 and not done.stdout:
        pytest.skip(f"Chromium could not run here: {done.stderr.strip()[-300:]}")
    return done


def with_probe(page: Path) -> Path:
    """A copy of PAGE beside it with PROBE in its head, PROBE's hash added to script-src."""
    text = page.read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(PROBE.encode()).digest()).decode()
    text = text.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    text = text.replace("</head>", f"<script>{PROBE}</script>\n</head>", 1)
    probe = page.with_name("probe.html")
    probe.write_text(text, encoding="utf-8")
    return probe


@pytest.fixture
def run_page(invoke, fake_api) -> Path:
    prompts = [f"A red fox number {k}" for k in range(5)]
    prompts += [f"A quiet harbour at dawn, study {k}" for k in range(14)] + [HOSTILE]
    Path("prompts.txt").write_text("\n".join(prompts) + "\n", encoding="utf-8")
    made = invoke("generate", "-f", "prompts.txt", "-d", "out", "-j", "4")
    assert made.exit_code == 0, made
    assert sum(len(e["files"]) for e in ledger_entries()) == 20
    shown = invoke("gallery", "--last")
    assert shown.exit_code == 0, shown
    return Path(shown.stdout.strip())


@pytest.mark.timeout(180)
def test_chromium_shows_every_image_filters_and_runs_no_prompt(run_page: Path) -> None:
    done = chromium(with_probe(run_page), "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    if found is None and "<html" not in done.stdout:
        pytest.skip(f"Chromium could not run here: {done.stderr.strip()[-300:]}")
    assert found, f"the probe wrote nothing: {done.stderr[-2000:]}"
    seen = json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&quot;", '"').replace("&amp;", "&"))  # fmt: skip
    assert (seen["images"], seen["loaded"]) == (20, 20)  # every image is there and decodes
    assert (seen["visible"], seen["counter"]) == (5, "5")  # the filter keeps the foxes
    assert seen["pwned"] is None and seen["title"] == "deerimg gallery: 20 images"
    assert HOSTILE in seen["prompts"]  # the prompt shown as the text it is
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "error" in line.lower() or "refused" in line.lower()]


@pytest.mark.timeout(180)
def test_the_page_itself_draws_in_chromium(run_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "gallery.png"
    done = chromium(run_page, f"--screenshot={shot}")
    if not shot.exists():
        pytest.skip(f"Chromium could not take a screenshot here: {done.stderr.strip()[-300:]}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert "Content Security Policy" not in done.stderr  # its own style and script are allowed
