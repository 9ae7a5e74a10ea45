"""End to end: the real dashboard server, Debian's chromium driven by Playwright, offline.

One server (the 12-month smoke scenario) serves every test of this module; each test opens its
own browser context, so each is a new analyst with a model of their own.
"""

import shutil
import socket
import time
import urllib.request
from urllib.parse import urlparse

import pytest

from sim.dashboard import server
from tests.conftest import ROOT, SMOKE_SCENARIO

playwright_api = pytest.importorskip("playwright.sync_api")

NO_POLICY = ROOT / "scenarios" / "liangping_no_policy.toml"
SCREENSHOT = ROOT / "out" / "dashboard.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1"}
TIMEOUT_MS = 180_000  # generous: CI shares two cores with the rest of the suite


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard_url():
    port = free_port()
    process = server.start(SMOKE_SCENARIO, NO_POLICY, "127.0.0.1", port)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the dashboard server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is missing: make installs it (scripts/system_deps.sh)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Analyst:
    """One browser context on the dashboard, recording every request its page makes."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1600, "height": 1200})
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.goto(url)
        self.page.locator(".innosim-chart").first.wait_for()
        self.page.locator(".innosim-rung").first.wait_for()

    def month(self) -> str:
        return self.page.locator(".innosim-month").inner_text().rsplit(" ", 1)[-1]

    def step(self, months: int) -> None:
        for _ in range(months):
            before = self.month()
            self.page.get_by_role("button", name="Step").click()
            # the sidebar's month and the charts' month: both renders have arrived
            self.page.wait_for_function(
                """m => !document.querySelector('.innosim-month').innerText.endsWith(m)
                     && !document.querySelector('.innosim-ladder').innerText.includes(m)""",
                arg=before,
            )

    def play_to_the_end(self) -> None:
        """Play: the smoke scenario's 12 months, then the run stops by itself."""
        self.page.get_by_role("button", name="▶").click()
        self.page.wait_for_function(
            """() => document.querySelector('.innosim-month').innerText.endsWith('2021-12')
                  && document.querySelector('.innosim-ladder').innerText.includes('2021-12')"""
        )

    def set_lever(self, group: str, key: str, text: str) -> None:
        field = self.page.locator(f".lever-{key.replace('.', '-')} input")
        if not field.is_visible():
            self.page.get_by_text(group, exact=True).click()
        field.fill(text)
        field.press("Enter")

    def chart_sources(self) -> list[str]:
        return self.page.locator(".innosim-chart img, img.innosim-chart").evaluate_all(
            "images => images.map(i => i.src)"
        )

    def scorecard(self) -> str:
        return self.page.locator(".innosim-scorecard").inner_text()

    def ladder(self) -> str:
        return self.page.locator(".innosim-ladder").inner_text()

    def close(self) -> None:
        self.context.close()


def test_lever_change_and_steps_change_the_charts_and_the_scorecard(dashboard_url, browser):
    analyst = Analyst(browser, dashboard_url)
    try:
        assert analyst.month() == "2020-12"
        charts_before, card_before = analyst.chart_sources(), analyst.scorecard()
        ladder_before = analyst.ladder()
        assert len(charts_before) == 4  # outcomes, inputs, spend, firm points
        analyst.set_lever("rd subsidies", "rd_subsidies.budget", "200")
        analyst.play_to_the_end()
        assert analyst.month() == "2021-12"
        charts_after = analyst.chart_sources()
        assert all(a != b for a, b in zip(charts_before, charts_after, strict=True))
        assert analyst.scorecard() != card_before
        assert (
            "as of 31 December 2021" in analyst.page.locator(".innosim-scorecard-card").inner_text()
        )
        assert analyst.ladder() != ladder_before
        SCREENSHOT.parent.mkdir(exist_ok=True)
        analyst.page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.stat().st_size > 10_000
    finally:
        analyst.close()


def test_counterfactual_toggle_and_language_switch(dashboard_url, browser):
    analyst = Analyst(browser, dashboard_url)
    try:
        analyst.step(2)
        analyst.page.get_by_label("Compare with the counterfactual").check()
        analyst.page.locator(".innosim-scorecard th", has_text="counterfactual").wait_for()
        assert "counterfactual" in analyst.ladder()
        analyst.page.get_by_role("button", name="中文").click()
        analyst.page.get_by_text("规划指标:成效").wait_for()
        assert "国家高新技术企业 / Certified national high-tech enterprises" in analyst.scorecard()
    finally:
        analyst.close()


def test_value_outside_a_levers_range_is_refused_visibly(dashboard_url, browser):
    analyst = Analyst(browser, dashboard_url)
    try:
        analyst.set_lever("vouchers", "vouchers.cost_share", "1.5")
        message = analyst.page.locator(".innosim-lever-error")
        message.wait_for()
        text = message.inner_text()
        assert "policy.vouchers.cost_share = 1.5: must be a probability between 0 and 1" in text
        assert "0.5 stays in force" in text  # read back from the model after the refusal
        assert analyst.month() == "2020-12"
    finally:
        analyst.close()


def test_two_analysts_stepping_at_once_keep_separate_models(dashboard_url, browser):
    first, second = Analyst(browser, dashboard_url), Analyst(browser, dashboard_url)
    try:
        first.set_lever("vouchers", "vouchers.budget", "40")
        for _ in range(3):  # interleaved: both servers' sessions step in the same seconds
            first.step(1)
            second.step(1)
        first.step(2)
        assert (first.month(), second.month()) == ("2021-05", "2021-03")
        second.page.get_by_text("vouchers", exact=True).click()
        assert second.page.locator(".lever-vouchers-budget input").input_value() != "40"
        assert first.page.locator(".lever-vouchers-budget input").input_value() == "40"
    finally:
        first.close()
        second.close()


def test_the_page_makes_no_request_outside_this_machine(dashboard_url, browser):
    analyst = Analyst(browser, dashboard_url)
    try:
        analyst.step(1)
        analyst.page.wait_for_timeout(1000)  # late loads (fonts, lazy bundles) are caught too
        hosts = {urlparse(url).hostname for url in analyst.requests if "://" in url}
        hosts.discard(None)
        assert analyst.requests, "no request was recorded"
        assert hosts <= LOCAL_HOSTS, f"requests left the machine: {hosts - LOCAL_HOSTS}"
    finally:
        analyst.close()
