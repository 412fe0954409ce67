"""Issue 24: the cleansing review page in headless Chromium (Debian's, driven by
Playwright), served by the API over real HTTP on a real PostgreSQL (the report tests'
building): log in with a tenant's token, open a usage, see the defects, apply, see the
corrected signal, undo; gap filling the same way; another tenant's token is refused.

Every step waits on what the page shows (Playwright's expect), never for a fixed time.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import report_fixture as fx
from api_server import ServedBuilding, serving_the_building
from playwright.sync_api import Browser, Page, expect, sync_playwright

from services.chart_packages import chart_assets
from services.postgres import PostgresServer
from storage.cleansing import read_signal
from storage.tokens import create_token, revoke_token

pytestmark = pytest.mark.integration

SCREENSHOTS = Path(__file__).parent.parent / ".cache" / "screenshots"


@dataclass
class Site:
    served: ServedBuilding
    requested: list[str] = field(default_factory=list)
    """Every URL the browser asked for."""

    @property
    def url(self) -> str:
        return self.served.url

    def signal(
        self, usage_id: str, start: datetime | None = None
    ) -> tuple[tuple[object, ...], tuple[float, ...]]:
        with psycopg.connect(self.served.database) as conn:
            found = read_signal(conn, fx.TENANT, usage_id, start)
        return found.times, found.values


@pytest.fixture(scope="module")
def site(postgres: PostgresServer) -> Iterator[Site]:
    with serving_the_building(postgres.url, chart_assets()) as served:
        yield Site(served)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium is not None, "Debian's chromium is not installed: run `make setup`"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("request", lambda request: site.requested.append(request.url))
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert problems == [], "the page's JavaScript failed"


def log_in(page: Page, site: Site, token: str, person: str = "Alice") -> None:
    page.goto(site.url + "/review")
    page.get_by_label("Token").fill(token)
    page.get_by_label("Your name").fill(person)
    page.get_by_role("button", name="Log in").click()


def choose(page: Page, usage: str, treatment: str) -> None:
    page.locator("#usage").select_option(usage)
    page.locator("#treatment").select_option(treatment)


def review(page: Page) -> None:
    page.get_by_role("button", name="Review", exact=True).click()


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_an_analyst_reviews_applies_and_undoes_a_treatment(page: Page, site: Site) -> None:
    as_stored = site.signal("hotel.heat")
    log_in(page, site, site.served.analyst)
    choose(page, "hotel.heat", "negative-consumption")

    status = page.locator("#status")
    expect(status).to_have_text(re.compile(r"negative-consumption on hotel.heat: 1 defect in 356"))
    expect(page.locator("#rows .uplot")).to_have_count(3)
    defects = page.locator("#defects tbody tr")
    expect(defects).to_have_count(1)
    expect(defects.first).to_contain_text("17 Apr 2026, 01:00")  # 23:00 UTC in Paris
    expect(defects.first).to_contain_text("-4")
    expect(defects.first).to_contain_text("negative consumption")
    expect(page.locator("#focus")).to_contain_text("1 of 1")
    page.locator("#chart-defects .u-over").hover()  # the defect in focus is in the middle
    legend = page.locator("#chart-defects .u-legend .u-series", has_text="defect")
    expect(legend.locator(".u-value")).to_have_text("-4")
    shoot(page, "review-negative-consumption")
    page.set_viewport_size({"width": 900, "height": 1300})  # the charts follow the window
    page.wait_for_function("document.querySelector('#chart-stored canvas').clientWidth < 900")

    apply = re.compile(r"^Apply negative-consumption: 1 correction, as Alice")
    page.get_by_role("button", name=apply).click()
    expect(page.locator("#done")).to_contain_text("Applied as operation op-")
    expect(status).to_have_text(re.compile(r"0 defects in 355 values"))
    operation = page.locator("#operations tbody tr")
    expect(operation).to_have_count(1)
    expect(operation).to_contain_text("Alice (api:analyst)")
    expect(operation).to_contain_text("in force")
    assert -4.0 not in site.signal("hotel.heat")[1]
    shoot(page, "review-applied")

    operation.get_by_role("button", name="Undo").click()
    expect(operation).to_contain_text("undone by Alice (api:analyst)")
    expect(status).to_have_text(re.compile(r"1 defect in 356 values"))
    assert site.signal("hotel.heat") == as_stored


def test_a_period_in_the_buildings_days_bounds_the_review(page: Page, site: Site) -> None:
    log_in(page, site, site.served.analyst)
    choose(page, "hotel.heat", "negative-consumption")
    expect(page.locator("#status")).to_contain_text("1 defect in 356 values")
    page.locator("#from").fill("2026-04-17")  # the defect is at 01:00 that day in Paris
    expect(page.locator("#apply")).to_have_text("Review the changed parameters first")
    expect(page.locator("#apply")).to_be_disabled()
    review(page)
    after = site.signal("hotel.heat", datetime(2026, 4, 16, 22, tzinfo=UTC))
    expect(page.locator("#status")).to_contain_text(f"1 defect in {len(after[0])} values")
    page.locator("#from").fill("2026-04-18")
    review(page)
    after = site.signal("hotel.heat", datetime(2026, 4, 17, 22, tzinfo=UTC))
    expect(page.locator("#status")).to_contain_text(f"0 defects in {len(after[0])} values")


def test_a_treatment_that_cannot_run_says_why_in_one_line(page: Page, site: Site) -> None:
    log_in(page, site, site.served.analyst)
    choose(page, "hotel.heat", "thresholds")  # hotel.heat has no registered min or max
    expect(page.locator("#error")).to_have_text(
        "hotel.heat has no registered min or max: give -p min=... and/or -p max=..."
    )
    expect(page.locator("#rows")).to_be_hidden()
    expect(page.locator("#history")).to_be_visible()
    page.locator("#parameters input[name=max]").fill("3.5")
    review(page)
    expect(page.locator("#status")).to_contain_text("thresholds on hotel.heat: 0 defects")
    expect(page.locator("#error")).to_be_empty()


def test_gap_filling_is_reviewed_applied_and_undone_the_same_way(page: Page, site: Site) -> None:
    as_stored = site.signal("hotel.elec")
    log_in(page, site, site.served.analyst)
    choose(page, "hotel.elec", "fill-gaps")
    page.locator("#parameters input[name=gap_periods]").fill("2")
    review(page)

    estimates = len(fx.GAP)
    found = f"fill-gaps on hotel.elec: {estimates} estimates"
    expect(page.locator("#status")).to_contain_text(found)
    expect(page.locator("#defects tbody tr")).to_have_count(estimates)
    expect(page.locator("#defects tbody tr").first).to_contain_text("(estimated)")
    page.locator("#defects tbody tr").nth(4).click()
    expect(page.locator("#focus")).to_contain_text(f"5 of {estimates}:")
    expect(page.locator("#previous")).to_be_enabled()
    shoot(page, "review-fill-gaps")

    page.get_by_role("button", name=re.compile(r"^Apply fill-gaps")).click()
    expect(page.locator("#done")).to_contain_text(f"{estimates} corrections")
    times, _ = site.signal("hotel.elec")
    assert len(times) == len(as_stored[0]) + estimates

    page.locator("#operations").get_by_role("button", name="Undo").click()
    expect(page.locator("#operations tbody tr").first).to_contain_text("undone by Alice")
    assert site.signal("hotel.elec") == as_stored


def test_another_tenants_token_is_refused(page: Page, site: Site) -> None:
    log_in(page, site, "smati_unknown_" + "0" * 43)
    expect(page.locator("#login-error")).to_have_text("this token is refused: unknown or revoked")
    log_in(page, site, site.served.stranger, person="Mallory")
    expect(page.locator("#usage option[value='other.elec']")).to_have_count(1)
    expect(page.locator("#usage option[value='hotel.heat']")).to_have_count(0)
    page.goto(site.url + "/review#usage=hotel.heat&treatment=negative-consumption")
    page.reload()
    expect(page.locator("#error")).to_have_text("no usage 'hotel.heat' of tenant t2")
    expect(page.locator("#rows")).to_be_hidden()
    expect(page.locator("#history")).to_be_hidden()
    shoot(page, "review-another-tenant")


def test_a_token_revoked_while_logged_in_sends_the_person_back_to_log_in(
    page: Page, site: Site
) -> None:
    with psycopg.connect(site.served.database, autocommit=True) as conn:
        stored, token = create_token(conn, fx.TENANT, "temporary", "test")
    log_in(page, site, token.text)
    choose(page, "hotel.heat", "negative-consumption")
    expect(page.locator("#status")).to_contain_text("1 defect in 356 values")
    with psycopg.connect(site.served.database, autocommit=True) as conn:
        revoke_token(conn, stored.id)
    review(page)
    expect(page.locator("#login-error")).to_have_text("this token is refused: unknown or revoked")
    expect(page.locator("#review")).to_be_hidden()
    shoot(page, "review-revoked")
    assert page.evaluate("sessionStorage.getItem('smati.token')") is None


def test_the_page_loads_only_its_own_files_and_keeps_tokens_out_of_urls(
    page: Page, site: Site
) -> None:
    answer = page.request.get(site.url + "/review")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    log_in(page, site, site.served.analyst)
    choose(page, "hotel.heat", "iqr")
    expect(page.locator("#status")).to_contain_text("iqr on hotel.heat")
    foreign = [url for url in site.requested if not url.startswith(site.url)]
    assert foreign == []
    tokens = (site.served.analyst, site.served.stranger)
    assert not [url for url in site.requested if any(token in url for token in tokens)]
    assert any(url.endswith("/review/charts/uPlot.iife.min.js") for url in site.requested)
