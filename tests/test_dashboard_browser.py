"""End to end: the real dashboard server, Debian's chromium driven by Playwright, offline.

One server (the 12-month smoke scenario) serves every test of this module; each test opens its
own browser context, so each is a new analyst with a model of their own.
"""

import re
import shutil
import socket
import time
import urllib.request
from urllib.parse import urlparse

import pytest
from conftest import ROOT, SMOKE_SCENARIO

from sim.dashboard import server
from sim.dashboard.components import LEVERS
from sim.dashboard.labels import group_title
from sim.words import text

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

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
# Bounds, not expected times: a month shows in about a second, the first one (Numba's cached
# kernels loading) and a page load in under 15 s on a busy two-core machine.
PAGE_MS = 60_000
MONTH_MS = 45_000
POLL_MS = 200


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


def next_month(date: str) -> str:
    year, month = map(int, date.split("-"))
    return f"{year + month // 12}-{month % 12 + 1:02d}"


class Analyst:
    """One browser context on the dashboard, recording every request its page makes."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1600, "height": 1200})
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(PAGE_MS)
        self.page.goto(url)
        self.page.locator(".innosim-chart").first.wait_for()
        self.page.locator(".innosim-rung").first.wait_for()

    def until(self, condition: str, arg=None, timeout: float = MONTH_MS) -> None:
        """Wait until the JavaScript ``condition`` (a function of ``arg``) holds on the page."""
        self.page.wait_for_function(condition, arg=arg, polling=POLL_MS, timeout=timeout)

    def shows_month(self, date: str) -> None:
        """Wait until the sidebar's month line and the status ladder both show ``date``."""
        self.until(
            """d => document.querySelector('.innosim-month')?.innerText.endsWith(d)
                 && document.querySelector('.innosim-ladder')?.innerText.includes(d)""",
            date,
        )

    def month(self) -> str:
        return self.page.locator(".innosim-month").inner_text().rsplit(" ", 1)[-1]

    def step(self, months: int) -> None:
        for _ in range(months):
            after = next_month(self.month())
            self.page.get_by_role("button", name="Step").click()
            self.shows_month(after)

    def play_to_the_end(self, charts_before: list[str]) -> None:
        """Play: the smoke scenario's 12 months, then the run stops by itself."""
        self.page.get_by_role("button", name="▶").click()
        self.shows_month("2021-12")
        # the year's close redraws the yearly charts and the scorecard: wait for all of them
        self.until(
            """() => document.querySelector('.innosim-scorecard-card')?.innerText
                       .includes('as of 31 December 2021')"""
        )
        self.until(
            """before => {
                 const now = [...document.querySelectorAll(
                   '.innosim-chart img, img.innosim-chart')].map(i => i.src);
                 return now.length === before.length && now.every((s, i) => s !== before[i]);
               }""",
            charts_before,
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

    def outside_hosts(self) -> set[str]:
        """Hosts other than this machine that the page asked anything of."""
        hosts = {urlparse(url).hostname for url in self.requests if "://" in url}
        hosts.discard(None)
        return hosts - LOCAL_HOSTS

    def close(self) -> None:
        self.context.close()
        # every test, not only the one below, fails on a request that left the machine
        assert not self.outside_hosts(), f"requests left the machine: {self.outside_hosts()}"


def test_a_lever_and_a_year_of_play_change_the_charts_and_nothing_leaves_the_machine(
    dashboard_url, browser
):
    analyst = Analyst(browser, dashboard_url)
    try:
        assert analyst.month() == "2020-12"
        charts_before, card_before = analyst.chart_sources(), analyst.scorecard()
        ladder_before = analyst.ladder()
        assert len(charts_before) == 4  # outcomes, inputs, spend, firm points
        analyst.set_lever("rd subsidies", "rd_subsidies.budget", "200")
        analyst.play_to_the_end(charts_before)
        assert analyst.month() == "2021-12"
        charts_after = analyst.chart_sources()
        assert all(a != b for a, b in zip(charts_before, charts_after, strict=True))
        assert analyst.scorecard() != card_before
        assert analyst.ladder() != ladder_before
        assert analyst.page.get_by_role("button", name="Step").is_disabled()  # the run is over
        SCREENSHOT.parent.mkdir(exist_ok=True)
        analyst.page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.stat().st_size > 10_000
        analyst.page.wait_for_timeout(1000)  # late loads (fonts, lazy bundles) are caught too
        assert len(analyst.requests) > 10, analyst.requests  # the page, its bundles, its kernel
        assert not analyst.outside_hosts(), f"requests left the machine: {analyst.outside_hosts()}"
    finally:
        analyst.close()


def test_counterfactual_toggle_and_language_switch(dashboard_url, browser):
    analyst = Analyst(browser, dashboard_url)
    try:
        analyst.step(1)
        # the label, as an analyst clicks it (Vuetify's ripple covers the box itself)
        analyst.page.get_by_text("Compare with the counterfactual", exact=True).click()
        # each card arrives with its own render: wait for each, read none before it shows
        analyst.page.locator(".innosim-scorecard th", has_text="counterfactual").wait_for()
        analyst.page.locator(".innosim-ladder", has_text="counterfactual").wait_for()
        analyst.page.get_by_role("button", name="中文").click()
        analyst.page.get_by_text("规划指标:成效").wait_for()
        chinese_first = "国家高新技术企业 / Certified national high-tech enterprises"
        analyst.page.locator(".innosim-scorecard", has_text=chinese_first).wait_for()
    finally:
        analyst.close()


def test_values_outside_a_levers_range_or_a_bad_seed_are_refused_visibly(dashboard_url, browser):
    analyst = Analyst(browser, dashboard_url)
    try:
        analyst.set_lever("vouchers", "vouchers.cost_share", "1.5")
        message = analyst.page.locator(".innosim-lever-error")
        message.wait_for()
        text = message.inner_text()
        assert "policy.vouchers.cost_share = 1.5: must be a probability between 0 and 1" in text
        assert "0.5 stays in force" in text  # read back from the model after the refusal
        assert analyst.month() == "2020-12"
        analyst.step(1)  # the refused value never reached the model: the run goes on
        seed = analyst.page.get_by_label("Seed")
        seed.fill("twelve")
        seed.press("Enter")
        analyst.page.get_by_role("button", name="Reset").click()
        notice = analyst.page.locator(".innosim-seed-error")
        notice.wait_for()
        assert notice.inner_text().count("\n") == 0  # one line
        assert "seed = 'twelve': must be a whole number" in notice.inner_text()
        assert "Traceback" not in analyst.page.locator("body").inner_text()
        analyst.shows_month("2020-12")  # Reset still made a new run, on the scenario's seed
    finally:
        analyst.close()


def test_each_lever_label_sits_clear_of_the_field_above_and_within_its_own(dashboard_url, browser):
    analyst = Analyst(browser, dashboard_url)
    try:
        for group, last in (("credit", "breaker_loss_ratio"), ("platforms", "services_share")):
            analyst.page.get_by_text(group, exact=True).click()
            analyst.page.locator(f".lever-{group}-{last} input").wait_for()
        analyst.page.wait_for_timeout(1000)  # the panels' opening transitions
        clashes = analyst.page.evaluate(
            """() => {
                const fields = [...document.querySelectorAll('.v-input')].filter(
                    f => /lever-(credit|platforms)-/.test(f.className));
                const clashes = [];
                fields.forEach((field, k) => {
                    const label = field.querySelector('label').getBoundingClientRect();
                    const own = field.getBoundingClientRect();
                    const above = k > 0 && fields[k - 1].querySelector('input')
                        .getBoundingClientRect();
                    if ((above && label.top < above.bottom) || label.right > own.right)
                        clashes.push(field.className.match(/lever-\\S+/)[0]);
                });
                return [fields.length, clashes];
            }"""
        )
        assert clashes[0] > 20 and clashes[1] == [], clashes
    finally:
        analyst.close()


def test_two_analysts_stepping_at_once_keep_separate_models(dashboard_url, browser):
    first, second = Analyst(browser, dashboard_url), Analyst(browser, dashboard_url)
    try:
        first.set_lever("vouchers", "vouchers.budget", "40")
        for _ in range(2):  # interleaved: both sessions step in the same seconds
            first.step(1)
            second.step(1)
        first.step(1)
        assert (first.month(), second.month()) == ("2021-03", "2021-02")
        second.page.get_by_text("vouchers", exact=True).click()
        expect(second.page.locator(".lever-vouchers-budget input")).not_to_have_value("40")
        expect(first.page.locator(".lever-vouchers-budget input")).to_have_value("40")
    finally:
        first.close()
        second.close()


def test_in_chinese_the_lever_panel_names_every_lever_and_unit_in_chinese(dashboard_url, browser):
    analyst = Analyst(browser, dashboard_url)
    page = analyst.page
    try:
        page.get_by_role("button", name="中文").click()
        page.get_by_text("规划指标:成效").wait_for()
        expect(page.get_by_label("随机种子")).to_have_count(1)  # Mesa's seed field, labelled by us
        for group in dict.fromkeys(group_title(spec.group, "中文") for spec in LEVERS):
            page.get_by_text(group, exact=True).click()
        shown = {
            "vouchers.budget": "创新券年度预算(百万元/年,≥ 0)",
            "credit.loan_cap": "单户授信额度上限(百万元,≥ 0)",
            "credit.word_of_mouth": "口碑传播系数(概率/年(每单位已获贷占比),0 至 5)",
            "guidance_funds.seed.ticket": "单笔投资额(百万元,≥ 0)",
            "super_deduction_tech_sme": "科技型中小企业研发加计扣除比例(占研发经费比例,0 至 3)",
        }
        for key, label in shown.items():
            field = page.locator(f".lever-{key.replace('.', '-')}")
            expect(field.locator("label")).to_have_text(label)
            expect(field.locator(".v-messages")).to_have_text(f"policy.{key}")  # for --set
        page.wait_for_timeout(1000)  # the panels' opening transitions
        labels = page.evaluate(
            """() => [...document.querySelectorAll('.innosim-lever')].map(field => {
                const label = field.querySelector('label');
                return [label.innerText, label.scrollWidth <= label.clientWidth];
            })"""
        )
        assert len(labels) == len(LEVERS)
        units = text()["units"]
        english = {s.unit for s in LEVERS if s.unit and units[s.unit] != s.unit} | {"M CNY"}
        for label, whole in labels:
            assert re.search(r"[\u4e00-\u9fff]", label) and whole, label  # Chinese, not cut
            assert not [unit for unit in english if unit in label], label
        field = page.locator(".lever-vouchers-cost_share input")
        field.fill("1.5")
        field.press("Enter")
        message = page.locator(".innosim-lever-error")
        message.wait_for()
        line = message.inner_text()
        assert "\n" not in line
        assert line.startswith("创新券抵扣服务费用比例:")
        assert "policy.vouchers.cost_share = 1.5" in line
        assert line.endswith("(允许范围 0 至 1);现值 0.5 继续有效")
    finally:
        analyst.close()


# Each chart as the browser shows it: its size, its scale against the image drawn, its card.
CHART_BOXES = """() => [...document.querySelectorAll('.innosim-chart')].map(element => {
    const image = element.tagName === 'IMG' ? element : element.querySelector('img');
    const card = element.closest('.v-card');
    const shown = image.getBoundingClientRect(), box = card.getBoundingClientRect();
    return {
        card: card.className.match(/innosim-[a-z]+/)[0],
        natural: image.naturalWidth,
        width: shown.width, height: shown.height, top: shown.top, bottom: shown.bottom,
        cardTop: box.top, cardBottom: box.bottom,
        clipped: card.scrollHeight > card.clientHeight + 1,
    };
})"""


def test_plan_charts_are_legible_and_whole_in_cards_that_follow_them(dashboard_url, browser):
    """At a 1600 px window, in both languages: no text under 11 px, no chart cut by its card."""
    from sim.dashboard.charts import MIN_TEXT_PX

    analyst = Analyst(browser, dashboard_url)
    page = analyst.page
    try:
        for language in ("English", "中文"):
            if language == "中文":
                before = analyst.chart_sources()
                page.get_by_role("button", name="中文").click()
                page.get_by_text("规划指标:成效").wait_for()
                analyst.until(  # every chart redrawn with the Chinese words
                    """before => [...document.querySelectorAll(
                         '.innosim-chart img, img.innosim-chart')]
                       .every((image, k) => image.src !== before[k] && image.complete)""",
                    before,
                )
            charts = {chart["card"]: chart for chart in page.evaluate(CHART_BOXES)}
            assert set(charts) == {"innosim-outcomes", "innosim-inputs", "innosim-spend",
                                   "innosim-firms"}, charts  # fmt: skip
            # 17 outcome panels in five rows, 8 inputs in two: each row keeps its height
            assert charts["innosim-outcomes"]["height"] >= 1100, charts
            assert charts["innosim-inputs"]["height"] >= 450, charts
            for name in ("innosim-outcomes", "innosim-inputs", "innosim-spend"):
                chart = charts[name]
                scale = chart["width"] / chart["natural"]
                assert MIN_TEXT_PX * scale >= 11, (language, chart)  # the smallest text, in px
                assert chart["cardTop"] < chart["top"], (language, chart)
                assert chart["bottom"] <= chart["cardBottom"], (language, chart)  # legend too
                assert not chart["clipped"], (language, chart)
    finally:
        analyst.close()
