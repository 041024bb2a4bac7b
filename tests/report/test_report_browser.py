"""The report opened in headless Chromium (Debian's /usr/bin/chromium via playwright; no browser download).

Checks every chart rendered (one .js-plotly-plot with an svg per figure), no JavaScript error, no network
request, a hover label with its unit; saves a full-page screenshot to tmp_path (and to
$GIGAWATT_ARTIFACTS_DIR when set, for humans and CI artifacts). Skipped when chromium is absent, except in
CI, where that is a failure: `bash .ci/browser-deps.sh` installs it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _need_browser():
    why = None
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is absent: install it with `bash .ci/browser-deps.sh` (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "playwright is not installed: pip install -e '.[test]'"
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _open(browser, page_path: Path):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors, requests = [], []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("request", lambda req: requests.append(req.url)
            if not req.url.startswith(("file:", "data:", "blob:", "about:")) else None)
    t0 = time.perf_counter()
    page.goto(page_path.resolve().as_uri(), wait_until="load")
    expected = int(page.get_attribute('meta[name="gigawatt-figures"]', "content"))
    page.wait_for_function(
        "n => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(d => d.querySelector('svg')).length >= n",
        arg=expected, timeout=30_000)
    return page, expected, errors, requests, time.perf_counter() - t0


def _save(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("GIGAWATT_ARTIFACTS_DIR"):
        dest = Path(os.environ["GIGAWATT_ARTIFACTS_DIR"])
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, dest / shot.name)
    return shot


@pytest.mark.parametrize("which", ["minimal", "openai"])
def test_report_renders_every_chart_without_errors(browser, which, minimal_run, openai_run, tmp_path,
                                                   record_property):
    from gigawatt.report import write_report

    run = {"minimal": minimal_run, "openai": openai_run}[which]
    written = write_report(run, tmp_path / f"{which}.html")
    page, expected, errors, requests, seconds = _open(browser, written.path)
    try:
        assert expected == len(written.charts) > 10
        rendered = page.evaluate(
            "Array.from(document.querySelectorAll('.js-plotly-plot')).filter(d => d.querySelector('svg')).length")
        assert rendered == expected
        assert page.locator(".card").count() >= 8  # the headline block
        # the counterparty section: its table and the circular-flows chart drawn (bars, in the bundle)
        assert page.locator("#exposure-table tbody tr").count() >= 2
        assert page.locator("#fig-exposure-flows .main-svg g.trace.bars").count() >= 2
        # hover the first chart: the label names its unit
        drag = page.locator("#fig-capacity-gw-provider .nsewdrag").first
        drag.scroll_into_view_if_needed()
        box = drag.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.4, steps=5)
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=5)
        hover = "document.querySelector('#fig-capacity-gw-provider .hoverlayer').textContent"
        page.wait_for_function(f"{hover}.length > 0", timeout=5_000)
        label = page.evaluate(hover)
        assert " GW" in label, label
        if which == "openai":  # money: a negative year reads -$43.3B (sign before the dollar), as in the CLI
            _assert_negative_money_hover(page, openai_run)
        # nothing wider than a laptop screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        shot = _save(page, tmp_path, f"report-{which}")
        assert shot.stat().st_size > 50_000
        record_property("screenshot", str(shot))
        record_property("render_seconds", round(seconds, 2))
    finally:
        page.close()
    assert errors == [], errors
    assert requests == [], f"the report fetched from the network: {requests[:5]}"


def _assert_negative_money_hover(page, run_dir: Path) -> None:
    import json

    years = json.loads((run_dir / "summary.json").read_text())["years"]
    negative = [i for i, e in enumerate(years.values()) if (e.get("free_cash_flow_usd") or 0) < -5e8]
    assert negative, "the reference has a year of negative free cash flow"
    # curve 0: free cash flow (before financing)
    page.evaluate(f"Plotly.Fx.hover('fig-cash-flow', [{{curveNumber: 0, pointNumber: {negative[0]}}}])")
    label = page.evaluate("document.querySelector('#fig-cash-flow .hoverlayer').textContent")
    assert "-$" in label and "$-" not in label, label


def test_compare_page_renders(browser, minimal_run, openai_run, tmp_path):
    from gigawatt.report import write_compare

    written, _ = write_compare([openai_run, minimal_run], tmp_path / "compare.html")
    page, expected, errors, requests, _ = _open(browser, written.path)
    try:
        assert expected == len(written.charts) >= 4
        _save(page, tmp_path, "compare")
    finally:
        page.close()
    assert errors == [] and requests == []


def test_hedge_section_renders(browser, hedge_run, tmp_path):
    """A run of `gigawatt hedge`: the Hedged plan section, its tables and its bar charts drawn."""
    from gigawatt.report import write_report

    written = write_report(hedge_run, tmp_path / "hedge.html")
    page, expected, errors, requests, _ = _open(browser, written.path)
    try:
        hedge = [c for c in written.charts if c.startswith("hedge-")]
        assert hedge == ["hedge-chips", "hedge-power", "hedge-oos-spending", "hedge-oos-gap"]
        assert page.locator("section#hedge h2").inner_text() == "Hedged plan"
        assert page.locator('nav a[href="#hedge"]').count() == 1
        for cid in hedge:  # both plans drawn as bars
            assert page.locator(f"#fig-{cid} .main-svg g.trace.bars").count() == 2, cid
        assert page.locator("#hedge-metrics tbody tr").count() >= 5  # WS, SP, EEV, EVPI, VSS
        assert page.locator("#hedge-oos tbody tr").count() == 2
        assert page.locator("#hedge-options tbody tr").first.inner_text().startswith("opt")
        assert "lower bound" in page.locator("#hedge-saa").inner_text()
    finally:
        page.close()
    assert errors == [], errors
    assert requests == []
