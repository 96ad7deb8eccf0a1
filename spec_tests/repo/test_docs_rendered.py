"""[M-DOCS-2], [M-DOCS-4]: the built pages render in a real headless browser, offline; the figures come from the oracle.

The browser check builds the documentation into a temporary folder, serves it from a local HTTP
server, and opens a copy of the overview, family, tutorial and frequency-spec pages, with a script appended that waits
for MathJax and writes what it finds into the DOM (math elements without MathJax output, MathJax
errors, raw ``$...$`` left in the text, images and their ``naturalWidth``); ``chromium --dump-dom``
returns that DOM. Nothing outside this machine is contacted.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from spec_tests.paths import REPO_ROOT
from spec_tests.repo.docs_copy import docs_copy

ROOT = REPO_ROOT
DOCS = ROOT / "docs"
HAVE_DOCS = (DOCS / "conf.py").is_file() and (DOCS / "_ext" / "refrope_figures.py").is_file()
MISSING = [name for name in ("sphinx", "myst_parser", "furo", "matplotlib") if importlib.util.find_spec(name) is None]
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
PAGES = (["overview.html", "spec/frequencies.html"]
         + [f"families/{p.stem}.html" for p in sorted((DOCS / "families").glob("*.md"))]
         + [f"tutorials/{p.stem}.html" for p in sorted((DOCS / "tutorials").glob("*.md")) if p.stem != "index"])
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf"}

needs_docs = pytest.mark.skipif(not HAVE_DOCS or bool(MISSING), reason=(
    "the docs sources are not in this installation" if not HAVE_DOCS
    else f"docs toolchain not installed: {', '.join(MISSING)} (pip install -e '.[docs]')"))

PROBE = """
<script>
window.addEventListener("load", function () {
  function report() {
    var root = document.querySelector("article") || document.body;
    var text = root.cloneNode(true);
    text.querySelectorAll("pre, code, mjx-container, script").forEach(function (n) { n.remove(); });
    var maths = Array.from(root.querySelectorAll(".math"));
    var result = {
      math: maths.length,
      untypeset: maths.filter(function (m) { return !m.querySelector("mjx-container"); }).length,
      errors: root.querySelectorAll("mjx-merror, [data-mjx-error]").length,
      raw: (text.textContent.match(/\\$[^$\\n]{1,80}\\$/g) || []).slice(0, 5),
      mathjax: Array.from(document.scripts).map(function (s) { return s.src; })
        .filter(function (s) { return /mathjax/i.test(s); }),
      images: Array.from(root.querySelectorAll("img"))
        .map(function (i) { return [i.getAttribute("src"), i.naturalWidth]; })
    };
    var pre = document.createElement("pre");
    pre.id = "refrope-probe";
    pre.textContent = JSON.stringify(result);
    document.body.appendChild(pre);
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(report, report);
  } else {
    report();
  }
});
</script>
"""


@functools.lru_cache(maxsize=1)
def _figures_module():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import refrope_figures
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    return refrope_figures


@pytest.fixture(scope="module")
def built_html(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    source = docs_copy(tmp_path_factory.mktemp("docs"))  # the build writes nothing into the repository
    command = [sys.executable, "-m", "sphinx", "-q", "-b", "html", "-d", str(out / ".doctrees"), str(source), str(out)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def server(built_html):
    handler = functools.partial(_QuietHandler, directory=str(built_html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def _probe(built_html: Path, base_url: str, page: str, profile: Path) -> dict:
    """Open ``page`` (with the probe appended) in headless chromium and return the probe's JSON."""
    source = built_html / page
    probed = source.with_name(source.stem + ".probe.html")
    probed.write_text(source.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}",
               "--virtual-time-budget=30000", "--dump-dom", f"{base_url}/{probed.relative_to(built_html).as_posix()}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="refrope-probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"{page}: the probe did not report (chromium exit {result.returncode}): {result.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")
                      .replace("&lt;", "<").replace("&gt;", ">"))


@needs_docs
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_math_and_figures(page, built_html, server, tmp_path):
    """[M-DOCS-2] In headless chromium, offline, every math element holds MathJax output, no raw $ is left, every image
    loads."""
    result = _probe(built_html, server, page, tmp_path / "profile")
    local = bool(result["mathjax"]) and all(src.startswith(server + "/_static/mathjax/") for src in result["mathjax"])
    assert local, (f"{page}: MathJax is not served from the built site ({result['mathjax']}); install the docs extra "
                   f"(sphinx-mathjax-offline), see docs/_ext/refrope_mathjax.py")
    has_math = "$" in (DOCS / page).with_suffix(".md").read_text(encoding="utf-8")
    assert (result["math"] > 0) == has_math, f"{page}: {result['math']} math elements, source has math: {has_math}"
    assert result["untypeset"] == 0 and result["errors"] == 0, f"{page}: {result}"
    assert result["raw"] == [], f"{page}: raw TeX left in the text: {result['raw']}"
    assert all(width > 0 for _, width in result["images"]), f"{page}: images that did not load: {result['images']}"


@needs_docs
def test_family_pages_show_their_figures(built_html):
    """[M-DOCS-4] Each generated figure is on a page of the build (the HTML references the copied image)."""
    names = set(_figures_module().FIGURE_NAMES)
    html = "".join(p.read_text(encoding="utf-8") for p in [built_html / "overview.html",
                                                          *(built_html / "families").glob("*.html")])
    shown = {name for name in names if re.search(rf'src="[./]*_images/{name}\.png"', html)}
    assert shown == names
    assert all((built_html / "_images" / f"{name}.png").stat().st_size > 1000 for name in names)


def test_no_committed_images():
    """[M-DOCS-4] No image file lives in the docs sources (figures are generated into _generated/, never kept)."""
    if not DOCS.is_dir():
        pytest.skip("the docs sources are not in this installation")
    ignored = {"_build", "_generated"}
    images = [p for p in DOCS.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
              and not ignored.intersection(p.relative_to(DOCS).parts)]
    assert images == []


@needs_docs
def test_figures_written_once_and_kept(tmp_path):
    """[M-DOCS-4] write_figures draws every figure as a PNG and leaves an unchanged file untouched on a rebuild."""
    figures = _figures_module()
    first = figures.write_figures(tmp_path)
    assert [p.name for p in first] == [f"{n}.png" for n in figures.FIGURE_NAMES]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in first)
    stamps = {p: p.stat().st_mtime_ns for p in first}
    figures.write_figures(tmp_path)
    assert {p: p.stat().st_mtime_ns for p in first} == stamps


@needs_docs
def test_decay_curve_at_zero_and_by_direct_sum():
    """[M-DOCS-4] decay bound: (d/2 + 1)/2 at distance 0 (|S_j| = j); at r = 100 it equals a direct double loop."""
    figures = _figures_module()
    r, curve = figures.decay_curve(d=16, max_distance=100)
    assert curve[0] == pytest.approx(4.5, rel=1e-15)
    theta = [10000.0 ** (-2 * i / 16) for i in range(8)]
    direct = sum(abs(sum(complex(np.cos(100 * t), np.sin(100 * t)) for t in theta[:j])) for j in range(1, 9)) / 8
    assert curve[100] == pytest.approx(direct, rel=1e-12)


@needs_docs
def test_ratio_curves_match_the_page():
    """[M-DOCS-4] PI's ratio is 1/k; proportional's 1 then 0; the others in [1/k, 1] but dynamic_ntk."""
    figures = _figures_module()
    k = figures.K
    curves = figures.ratio_curves()
    assert np.allclose(curves["linear (PI)"], 1 / k, rtol=1e-15, atol=0)
    proportional = curves.pop(next(label for label in curves if label.startswith("proportional")))
    assert np.array_equal(proportional, np.repeat([1.0, 0.0], figures.D // 4))  # rho = 0.5: D/4 rotated pairs
    slack = 1e-12
    for label, ratio in curves.items():
        inside = bool(np.all((ratio >= 1 / k - slack) & (ratio <= 1 + slack)))
        assert inside != label.startswith("dynamic_ntk"), label


@needs_docs
def test_mixed_radix_radices_of_the_figure():
    """[M-DOCS-4] the figure's radices k^(w_m) meet 9706 eq. (11): product k, non-increasing, >= 1."""
    figures = _figures_module()
    radices = figures.K ** figures._linear_weights(64)
    assert np.prod(radices) == pytest.approx(figures.K, rel=1e-13)
    assert np.all(np.diff(radices) <= 0) and np.all(radices >= 1)


@needs_docs
def test_precision_curves_against_the_budget():
    """[M-DOCS-4] float32 and bfloat16-with-float32-angles errors stay under the stated budget; bfloat16 positions do
    not."""
    figures = _figures_module()
    positions = np.unique(np.round(np.geomspace(1.0, 2.0**20, 200)))
    errors = figures.precision_errors(positions)
    assert np.all(errors["float32"] <= figures.precision_budget(positions, "float32"))
    assert np.all(errors["bfloat16 (angles in float32)"] <= figures.precision_budget(positions, "bfloat16"))
    assert np.any(errors["bfloat16 positions (bug)"] > figures.precision_budget(positions, "bfloat16"))


@needs_docs
def test_bf16_rounding_is_round_to_nearest_even():
    """[M-DOCS-4] the bfloat16 emulation of the precision figure: exact values kept, ties to even, 8 significant
    bits."""
    round_bf16 = _figures_module()._round_bf16
    values = np.array([1.0, 1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8, 257.0, 259.0, 1.0 + 2.0**-7, -3.5], dtype=np.float32)
    expected = np.array([1.0, 1.0, 1.0 + 2.0**-6, 256.0, 260.0, 1.0 + 2.0**-7, -3.5], dtype=np.float32)
    assert np.array_equal(round_bf16(values), expected)
