"""The pages through Flask's client: what they list and the numbers they print, against the read API."""

from __future__ import annotations

from . import story
from .conftest import kr_rows


def api_key_results(client) -> dict[str, dict]:
    return {kr["id"]: kr for kr in client.get("/api/v1/key-results").get_json()["key_results"]}


def test_the_dashboard_lists_every_key_result_with_the_api_numbers(played):
    api = api_key_results(played)
    assert set(api) == {story.ONBOARDING, story.REFERRALS, story.LATENCY, story.SIGNUPS}
    rows = kr_rows(played.get("/").get_data(as_text=True))
    assert set(rows) == set(api)
    for kr_id, kr in api.items():
        row = rows[kr_id]
        assert row["kr-name"] == kr["title"]
        assert row["kr-percent"] == f"{kr['progress']['percent']:g}%"
        p = kr["progress"]
        assert row["kr-done"] == f"{p['done']:g} of {p['total']:g} done"
        assert row["kr-dropped"] == f"{p['dropped']:g}"
        assert row["kr-health"] == kr["health"].replace("_", " ")
    assert rows[story.ONBOARDING]["kr-percent"] == "75%"  # 3 of 4, from the story itself
    assert rows[story.LATENCY]["kr-dropped"] == "1"
    assert rows[story.REFERRALS]["kr-owner"] == "no owner"
    assert rows[story.LATENCY]["kr-owner"] == "bob shared with carol"
    assert rows[story.SIGNUPS]["kr-owner"] == "dave"


def test_objectives_show_their_weighted_progress_as_the_api_does(played):
    html = played.get("/").get_data(as_text=True)
    for objective in played.get("/api/v1/objectives").get_json()["objectives"]:
        percent = objective["progress"]["percent"]
        assert f'<span class="objective-percent">{percent:g}%</span>' in html, objective
    assert '<span class="objective-percent">37.5%</span>' in html  # Grow adoption: (75 + 0) / 2


def test_filters_narrow_the_list(played):
    def listed(query: str) -> set[str]:
        return set(kr_rows(played.get("/?" + query).get_data(as_text=True)))

    assert listed("owner=alice") == {story.ONBOARDING}
    assert listed("owner=-") == {story.REFERRALS}
    assert listed("health=off_track") == story.OFF_TRACK_OR_AT_RISK
    assert listed("objective=signups-up") == {story.SIGNUPS}
    assert listed("tracker=jira") == set()
    assert listed("tracker=github&owner=dave") == {story.SIGNUPS}


def test_a_period_is_chosen_by_name_and_a_bad_one_is_refused(played):
    assert "No key results in 2020-Q1 yet" in played.get("/?period=2020-Q1").get_data(as_text=True)
    response = played.get("/?period=2026-Q5")
    assert response.status_code == 400
    assert "is no period" in response.get_data(as_text=True)


def test_the_people_page_lists_what_a_person_owns_shares_and_contributes_to(played):
    html = played.get("/people/bob").get_data(as_text=True)
    owns = kr_rows(html.split('id="owns"')[1].split("</section>")[0])
    assert set(owns) == {story.LATENCY}  # the provisional owner of a shared key result
    contributes = html.split('id="contributes"')[1]
    assert f'data-kr="{story.ONBOARDING}"' in contributes and f'data-kr="{story.LATENCY}"' not in contributes
    carol = played.get("/people/carol").get_data(as_text=True)
    assert set(kr_rows(carol.split('id="shares"')[1].split("</section>")[0])) == {story.LATENCY}
    assert set(kr_rows(carol.split('id="owns"')[1].split("</section>")[0])) == set()


def test_needs_attention_lists_ownerless_stale_and_off_track(played):
    html = played.get("/needs-attention").get_data(as_text=True)

    def section(name: str) -> set[str]:
        return set(kr_rows(html.split(f'id="{name}"')[1].split("</section>")[0]))

    assert section("ownership") == story.NEEDS_OWNER
    assert section("stale") == story.STALE
    assert section("health") == story.OFF_TRACK_OR_AT_RISK
    assert section("disagree") == set()  # nobody checked in yet


def test_the_burn_up_has_a_point_per_day_with_the_done_of_that_day(played):
    html = played.get(f"/key-results/{story.ONBOARDING}").get_data(as_text=True)
    done = html.split('class="series series-done"')[1].split("</g>")[0]
    assert done.count("<circle") == story.DAYS
    values = [int(t.rsplit(": ", 1)[1]) for t in _titles(done)]
    assert values == story.DONE_PER_DAY[story.ONBOARDING]
    assert "<title id=\"burnup-title\">Burn-up: Ship the new onboarding</title>" in html
    assert 'data-series="ideal"' in html and "<desc id=\"burnup-desc\">" in html


def _titles(svg: str) -> list[str]:
    return [part.split("</title>")[0] for part in svg.split("<title>")[1:]]


def test_pages_carry_no_inline_script_or_style(played):
    for url in ("/", f"/key-results/{story.LATENCY}", "/people/bob", "/needs-attention"):
        html = played.get(url).get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and "<style" not in html, url
        assert 'href="/static/pages/pages.css"' in html


def test_an_unknown_key_result_is_404(played):
    assert played.get("/key-results/no-such-kr").status_code == 404


# --- check-ins (issue 13) --------------------------------------------------------------------------

EVIL_NOTE = "<script>alert(1)</script> @bob <b>bold</b>"


def _checkins(story_rt, api: dict) -> dict:
    """alice: on track a week ago, then a status the numbers contradict yesterday (and a deleted one today);
    dave: what the numbers say."""
    from datetime import UTC, datetime, timedelta

    from tests.checkins import store_checkin

    rt, _ = story_rt
    now = datetime.now(UTC)
    health = api[story.ONBOARDING]["health"]
    contrary = "off_track" if health != "off_track" else "on_track"
    urls = {"old": store_checkin(rt, story.ONBOARDING, now - timedelta(days=7), 1, status="on_track", note=""),
            "new": store_checkin(rt, story.ONBOARDING, now - timedelta(days=1), 2, status=contrary, confidence=3,
                                 note=EVIL_NOTE),
            "gone": store_checkin(rt, story.ONBOARDING, now - timedelta(hours=1), 3, status="on_track",
                                  withdrawn=True)}
    agreeing = api[story.SIGNUPS]["health"] if api[story.SIGNUPS]["health"] in ("on_track", "at_risk",
                                                                                 "off_track") else "at_risk"
    store_checkin(rt, story.SIGNUPS, now - timedelta(days=2), 4, status=agreeing, confidence=None, note="",
                  by="dave", anchor="github:codertocat/hello-world#40")
    return {"contrary": contrary, "agreeing": agreeing, "urls": urls}


def test_the_dashboard_shows_the_owners_checkin_and_flags_a_disagreement(played, story_rt):
    from mappings.checkins import CheckinStatus

    api = api_key_results(played)
    made = _checkins(story_rt, api)
    rows = kr_rows(played.get("/").get_data(as_text=True))
    onboarding = rows[story.ONBOARDING]
    assert onboarding["checkin"] == CheckinStatus(made["contrary"]).words
    assert onboarding["checkin-confidence"] == "(3/10)"
    assert onboarding["flag-disagrees"] == "disagrees"
    signups = rows[story.SIGNUPS]
    assert signups["checkin"] == CheckinStatus(made["agreeing"]).words and "flag-disagrees" not in signups
    assert "checkin" not in rows[story.LATENCY] and rows[story.LATENCY]["kr-checkin"] == "no check-in"


def test_the_key_result_page_shows_the_current_checkin_and_the_history_newest_first(played, story_rt):
    from mappings.checkins import CheckinStatus

    made = _checkins(story_rt, api_key_results(played))
    html = played.get(f"/key-results/{story.ONBOARDING}").get_data(as_text=True)
    fact = kr_rows(html)[story.ONBOARDING]
    assert fact["checkin"] == CheckinStatus(made["contrary"]).words and fact["checkin-by"] == "by alice"
    assert fact["checkin-note"] == EVIL_NOTE  # as text: the markup is escaped
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; @bob &lt;b&gt;bold&lt;/b&gt;" in html
    history = html.split('<ol class="checkins">', 1)[1].split("</ol>", 1)[0]
    links = [part.split('"', 1)[0] for part in history.split('<a href="')[1:]]
    assert links == [made["urls"]["new"], made["urls"]["old"]]  # newest first; the deleted one is gone
    assert "Check-ins (2)" in html


def test_a_key_result_without_checkins_says_how_to_check_in(played):
    html = played.get(f"/key-results/{story.LATENCY}").get_data(as_text=True)
    assert ("No check-in yet. The owner checks in with a comment on the key result's issue: "
            "<code>/checkin on-track|at-risk|off-track [confidence/10] [note]</code>, "
            "for example <code>/checkin at-risk 6/10 vendor API slipped a week</code>.") in html


def test_needs_attention_lists_where_the_owner_and_the_numbers_disagree(played, story_rt):
    _checkins(story_rt, api_key_results(played))
    html = played.get("/needs-attention").get_data(as_text=True)
    assert set(kr_rows(html.split('id="disagree"')[1].split("</section>")[0])) == {story.ONBOARDING}
