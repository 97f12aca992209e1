"""The pages in a real Chromium, the story applied through real signed webhooks over HTTP; screenshots saved."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.browser import SCREENSHOTS, serve_app
from tests.conftest import github_headers

from . import story


def _post_http(base: str):
    def post(event: str, body: dict) -> int:
        raw = json.dumps(body).encode()
        request = urllib.request.Request(base + "/webhooks/github", data=raw, headers=github_headers(raw, event))
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    return post


@pytest.fixture
def site(story_rt, story_app):
    rt, okrs = story_rt
    with serve_app(story_app) as base:
        story.play(rt, _post_http(base), okrs)
        yield base


def _shot(page, name: str, database_url: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    page.screenshot(path=str(SCREENSHOTS / f"{name}.{kind}.png"), full_page=True)


def test_the_dashboard_shows_what_the_api_says(site, page, database_url):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + "/")
    api = page.request.get(site + "/api/v1/key-results").json()["key_results"]
    rows = page.locator("tr.kr")
    assert rows.count() == len(api) == 4
    for kr in api:
        row = page.locator(f'tr.kr[data-kr="{kr["id"]}"]')
        assert row.locator(".kr-name").inner_text() == kr["title"]
        if kr["anchor"]:
            assert row.locator(".kr-name a").get_attribute("href") == kr["anchor"]["url"]
        else:  # a file key result fed by a label has no issue to link to
            assert row.locator(".kr-name a").count() == 0
        owner = kr["owner"]
        if owner:
            assert row.locator(".kr-owner a").inner_text() == (owner["name"] or owner["login"])
        else:
            assert row.locator(".kr-owner").inner_text().strip() == "no owner"
        assert row.locator(".kr-percent").inner_text() == f"{kr['progress']['percent']:g}%"
    _shot(page, "dashboard", database_url)


def test_the_owner_filter_narrows_the_list(site, page, database_url):
    page.goto(site + "/")
    page.select_option("select[name=owner]", "alice")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/?*owner=alice*")
    assert [r.get_attribute("data-kr") for r in page.locator("tr.kr").all()] == [story.ONBOARDING]
    assert "1 of 4 key results shown" in page.inner_text("main")
    _shot(page, "dashboard-owner-alice", database_url)


def test_the_burn_up_svg_has_one_point_per_day(site, page, database_url):
    page.goto(f"{site}/key-results/{story.ONBOARDING}")
    chart = page.locator("svg.chart")
    assert chart.locator("title").first.text_content() == "Burn-up: Ship the new onboarding"
    done = chart.locator(".series-done circle.point")
    assert done.count() == story.DAYS
    scope = chart.locator(".series-scope circle.point")
    assert scope.count() == story.DAYS
    points = chart.locator(".series-done polyline").get_attribute("points").split()
    assert len(points) == story.DAYS
    box = chart.bounding_box()
    assert box["width"] > 600 and box["height"] > 250  # readable, not a thumbnail
    assert page.locator(".legend text").all_text_contents() == ["scope", "done", "ideal", "forecast"]
    assert chart.locator(".series-forecast polyline").count() == 1  # 9 days of history: enough to forecast
    _shot(page, "key-result", database_url)


def test_people_and_needs_attention_list_the_right_key_results(site, page, database_url):
    page.goto(f"{site}/people/bob")
    assert [r.get_attribute("data-kr") for r in page.locator("#owns tr.kr").all()] == [story.LATENCY]
    assert [a.get_attribute("data-kr") for a in page.locator("#contributes article").all()] == [story.ONBOARDING]
    _shot(page, "person", database_url)
    page.goto(f"{site}/needs-attention")
    for section, expected in (("ownership", story.NEEDS_OWNER), ("stale", story.STALE),
                              ("health", story.OFF_TRACK_OR_AT_RISK)):
        assert {r.get_attribute("data-kr") for r in page.locator(f"#{section} tr.kr").all()} == expected, section
    _shot(page, "needs-attention", database_url)


def test_the_key_result_page_shows_the_owners_checkin(site, story_rt, page, database_url):
    from datetime import UTC, datetime, timedelta

    from tests.checkins import store_checkin

    rt, _ = story_rt
    now = datetime.now(UTC)
    store_checkin(rt, story.ONBOARDING, now - timedelta(days=3), 1, status="on_track", confidence=8, note="")
    url = store_checkin(rt, story.ONBOARDING, now - timedelta(hours=2), 2, note="vendor API slipped <b>a week</b>")
    page.goto(f"{site}/key-results/{story.ONBOARDING}")
    fact = page.locator("dd.kr-checkin")
    assert fact.locator(".checkin").inner_text() == "at risk"
    assert fact.locator(".checkin-confidence").inner_text() == "(6/10)"
    assert fact.locator(".checkin-note").inner_text() == "vendor API slipped <b>a week</b>"  # shown, not obeyed
    assert fact.locator("b").count() == 0
    assert fact.locator("a.checkin-link").get_attribute("href") == url
    entries = page.locator("ol.checkins li.checkin-entry")
    assert entries.count() == 2
    assert [e.locator(".checkin").inner_text() for e in entries.all()] == ["at risk", "on track"]  # newest first
    assert entries.first.locator("a").get_attribute("href") == url
    _shot(page, "key-result-checkin", database_url)
    page.goto(site + "/")
    assert page.locator(f'tr.kr[data-kr="{story.ONBOARDING}"] .kr-checkin .checkin').inner_text() == "at risk"
    _shot(page, "dashboard-checkin", database_url)
