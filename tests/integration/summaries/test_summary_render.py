"""The weekly summary's exact text on GitHub and Jira (golden files in tests/integration/golden)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from core.events import Person
from integration.markup import GITHUB, JIRA, defuse_github, defuse_jira
from integration.summaries.render import (
    UNASSIGNED_TITLE,
    BurnupWeek,
    DoneItem,
    SummaryKR,
    SummaryObjective,
    SummaryView,
    change_text,
    forecast_text,
    mention,
    render_summary,
)
from mappings.checkins import Checkin, CheckinStatus
from mappings.forecast import Forecast
from tests.golden import golden

CLOUD_ID = "5b10a2844c20165700ede210"  # a Jira Cloud accountId: 24 hex digits


def kr(kr_id: str, title: str, **changes) -> SummaryKR:
    base = SummaryKR(id=kr_id, title=title, url=f"https://github.com/acme/web/issues/{kr_id}", owner="@alice",
                     ownership="ok", team=None, others=(), percent=60.0, delta_points=12.0, done_this_week=3,
                     health="on_track", forecast=Forecast("on_pace", date(2026, 12, 10), 21), stale_days=None)
    return replace(base, **changes)


def checkin(status: str, confidence: int | None, note: str, by: str, day: int) -> Checkin:
    at = datetime(2026, 11, day, 16, 0, tzinfo=UTC)
    return Checkin(kr_id="x", status=CheckinStatus(status), confidence=confidence, note=note, by=by, at=at,
                   updated_at=at, url=None)


# the owner says at risk while the numbers say on track: flagged; bob agrees with the numbers
ONBOARDING = kr("12", "Ship the new onboarding",
                checkin=checkin("at_risk", 6, "vendor API slipped a week", "alice", 20), disagrees=True,
                owner_person=Person("alice", "Alice Liddell"))
SIGNUPS = kr("20", "1,000 weekly sign-ups", owner="@bob", ownership="shared", others=("carol", "dave"),
             percent=35.0, delta_points=-2.0, done_this_week=1, health="at_risk",
             forecast=Forecast("late", date(2027, 1, 20), -20),
             checkin=checkin("at_risk", None, "", "bob", 16), owner_person=Person("bob"))
DOCS = kr("21", "Rewrite the getting-started docs", owner=None, ownership="none", url=None, percent=0.0,
          delta_points=0.0, done_this_week=0, health="off_track", forecast=Forecast("flat", None, None),
          stale_days=30)
CHURN = kr("30", "Cut churn to 2%", owner=None, ownership="team", team="@acme/growth", percent=130.0,
           delta_points=5.0, done_this_week=2, health="on_track", forecast=Forecast("done", None, None))
UPTIME = kr("31", "99.9% uptime", owner="@erin", percent=None, delta_points=None, done_this_week=0,
            health="unknown", forecast=Forecast("no_history", None, None))
LOOSE = kr("40", "Answer every support ticket within a day", owner="@frank", percent=80.0, delta_points=0.4,
           done_this_week=0, health="on_track", forecast=Forecast("on_pace", date(2026, 12, 31), 0),
           stale_days=15)

VIEW = SummaryView(
    period=(date(2026, 10, 1), date(2026, 12, 31)), week="2026-W48", days_left=38, overall_percent=52.4,
    objectives=(
        SummaryObjective("grow-adoption", "Grow adoption", 47.5, (ONBOARDING, SIGNUPS, DOCS),
                         (BurnupWeek("W45", 2, 10), BurnupWeek("W46", 4, 10), BurnupWeek("W47", 6, 12),
                          BurnupWeek("W48", 9, 12.5))),
        SummaryObjective("keep-customers", "Keep customers", 100.0, (CHURN, UPTIME), ()),
    ),
    unassigned=(SummaryObjective("unassigned", UNASSIGNED_TITLE, 80.0, (LOOSE,), (BurnupWeek("W48", 8, 10),)),),
    needs_owner=(SIGNUPS, DOCS, CHURN), no_movement=(DOCS, LOOSE), stale_threshold_days=14,
    done_by_contributor=(
        ("alice", (DoneItem("#14", "Welcome screen", "https://github.com/acme/web/issues/14"),
                   DoneItem("acme/api#3", "Sign-up endpoint", "https://github.com/acme/api/issues/3"))),
        ("Carol Jones", (DoneItem("PROJ-7", "Cancel flow survey", "https://acme.atlassian.net/browse/PROJ-7"),)),
        ("dave", (DoneItem("#15", "Drop the legacy form", None),)),
    ),
    generated_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
OWNED = (ONBOARDING, SIGNUPS, UPTIME, LOOSE)  # the key results with someone to call


def jira_view(flavour: str) -> SummaryView:
    logins = {"@alice": "alice", "@bob": "bob", "@erin": "erin", "@frank": "frank"}
    if flavour == "cloud":
        logins = {k: f"{CLOUD_ID[:-1]}{i}" for i, k in enumerate(logins)}

    def to_jira(k: SummaryKR) -> SummaryKR:
        return replace(k, owner=mention("jira", logins[k.owner], flavour)) if k.owner else k

    objectives = tuple(replace(o, key_results=tuple(map(to_jira, o.key_results))) for o in VIEW.objectives)
    unassigned = tuple(replace(o, key_results=tuple(map(to_jira, o.key_results))) for o in VIEW.unassigned)
    return replace(VIEW, objectives=objectives, unassigned=unassigned,
                   needs_owner=tuple(map(to_jira, VIEW.needs_owner)), no_movement=tuple(map(to_jira, VIEW.no_movement)))


EMPTY = replace(VIEW, objectives=(), unassigned=(), needs_owner=(), no_movement=(), done_by_contributor=(),
                overall_percent=None)



def test_golden_summaries():
    golden("summary-full.github.md", render_summary(VIEW, GITHUB))
    golden("summary-full.jira-server.txt", render_summary(jira_view("server"), JIRA))
    golden("summary-full.jira-cloud.txt", render_summary(jira_view("cloud"), JIRA))
    golden("summary-empty.github.md", render_summary(EMPTY, GITHUB))
    golden("summary-empty.jira.txt", render_summary(EMPTY, JIRA))


def github_mentions(text: str) -> list[str]:
    return re.findall(r"(?<![\w`])@(?!&#8203;)[\w-]+(?:/[\w-]+)?", text)


def jira_mentions(text: str) -> list[str]:
    return re.findall(r"(?<!\\)\[~[^\]]+\]", text)


def test_only_owners_are_called_each_once_on_github():
    text = render_summary(VIEW, GITHUB)
    assert sorted(github_mentions(text)) == sorted(k.owner for k in OWNED)
    assert len(re.findall("@(?!&#8203;)", text)) == len(OWNED)  # a check-in's author is shown, not called
    assert "Check-in by @&#8203;alice, 20 Nov: " in text
    for name in ("carol", "dave", "Carol Jones", "acme/growth"):  # other assignees, contributors, the team
        assert name in text and f"@{name}" not in text
    assert "team acme/growth" in text and "owned by the team acme/growth" in text


@pytest.mark.parametrize("flavour", ["server", "cloud"])
def test_only_owners_are_called_each_once_on_jira(flavour):
    view = jira_view(flavour)
    text = render_summary(view, JIRA)
    owners = [k.owner for o in view.objectives + view.unassigned for k in o.key_results if k.owner]
    assert sorted(jira_mentions(text)) == sorted(owners) and len(owners) == len(OWNED)
    assert text.count("[~") == len(OWNED) and "@" not in text
    assert all(m.startswith("[~accountid:") == (flavour == "cloud") for m in owners)


def test_typed_text_never_notifies():
    sneaky = replace(ONBOARDING, title="Thank @bob and [~carol] for mail to ops@acme.test",
                     ownership="shared", others=("@dave",))
    view = replace(VIEW, objectives=(SummaryObjective("o", "Reach @everyone", None, (sneaky,), ()),), unassigned=(),
                   needs_owner=(sneaky,), no_movement=(),
                   done_by_contributor=(("@zed", (DoneItem("#1", "cc @yan", None),)),))
    assert github_mentions(render_summary(view, GITHUB)) == ["@alice"]
    assert "ops@acme.test" in render_summary(view, GITHUB)  # an address is not a mention: left alone
    jira = replace(view, objectives=(replace(view.objectives[0], key_results=(replace(sneaky, owner="[~alice]"),)),))
    assert jira_mentions(render_summary(jira, JIRA)) == ["[~alice]"]
    assert defuse_github("@bob, `@code` and a@b") == "@&#8203;bob, `@code` and a@b"
    assert defuse_jira("[~carol] [link|x]") == "\\[~carol] [link|x]"


def test_mention_syntax():
    assert mention("github", "alice") == "@alice"
    assert mention("github", "@alice") == "@alice"
    assert mention("jira", "5b10ac8d82e05b22cc7d4ef5", "cloud") == "[~accountid:5b10ac8d82e05b22cc7d4ef5]"
    assert mention("jira", "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "cloud") == \
        "[~accountid:557058:f58131cb-b67d-43c7-b30d-6b58d40bd077]"
    assert mention("jira", "jsmith", "server") == "[~jsmith]"
    # without a flavour, the login's shape decides
    assert mention("jira", "5b10ac8d82e05b22cc7d4ef5") == "[~accountid:5b10ac8d82e05b22cc7d4ef5]"
    assert mention("jira", "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077").startswith("[~accountid:557058:")
    assert mention("jira", "jsmith") == "[~jsmith]"
    assert mention("jira", "accountid:5b10ac8d82e05b22cc7d4ef5") == "[~accountid:5b10ac8d82e05b22cc7d4ef5]"
    for args in (("gitlab", "x"), ("jira", "x", "cloudy"), ("github", "@"), ("jira", " ")):
        with pytest.raises(ValueError):
            mention(*args)


def mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)\n```", text, flags=re.S)


def test_mermaid_burnup_is_well_formed():
    text = render_summary(VIEW, GITHUB)
    assert text.count("```") % 2 == 0
    blocks = mermaid_blocks(text)
    assert len(blocks) == 2  # Grow adoption, and the key results without an objective; Keep customers has none
    for block, weeks in zip(blocks, (VIEW.objectives[0].burnup, VIEW.unassigned[0].burnup), strict=True):
        lines = block.splitlines()
        assert lines[0] == "xychart-beta"
        labels = re.findall(r'"([^"]*)"', next(line for line in lines if line.strip().startswith("x-axis")))
        series = [re.fullmatch(r"\s*line \[(.*)\]", line).group(1).split(", ") for line in lines
                  if line.strip().startswith("line ")]
        assert labels == [w.label for w in weeks]
        assert len(series) == 2 and all(len(values) == len(labels) for values in series)
        assert [float(v) for v in series[0]] == [w.done for w in weeks]
        assert [float(v) for v in series[1]] == [w.scope for w in weeks]


def test_jira_burnup_is_a_table_of_the_same_numbers():
    text = render_summary(jira_view("server"), JIRA)
    assert "```" not in text and "mermaid" not in text
    assert "||Week||Done||Scope||\n|W45|2|10|\n|W46|4|10|\n|W47|6|12|\n|W48|9|12.5|\n" in text


def test_lines_for_each_forecast_and_change():
    assert forecast_text(Forecast("on_pace", date(2026, 12, 10), 21)) == \
        "on pace: 100% by 2026-12-10, 21 days before the end"
    assert forecast_text(Forecast("on_pace", date(2026, 12, 31), 0)) == "on pace: 100% by 2026-12-31, on the last day"
    assert forecast_text(Forecast("late", date(2027, 1, 20), -20)) == "at this pace 100% on 2027-01-20, 20 days late"
    assert forecast_text(Forecast("late", date(2027, 1, 1), -1)) == "at this pace 100% on 2027-01-01, 1 day late"
    assert forecast_text(Forecast("late", None, None)) == "at this pace 100% is more than 100 years away"
    assert forecast_text(Forecast("flat", None, None)) == "no movement in 4 weeks"
    assert forecast_text(Forecast("flat", None, None, 10)) == "no movement in 10 days"
    assert forecast_text(Forecast("flat", None, None, 28, -0.5)) == "losing ground over the last 4 weeks"
    assert forecast_text(Forecast("done", None, None)) == "done"
    assert forecast_text(Forecast("no_history", None, None)) == "not enough history yet"
    assert change_text(ONBOARDING) == "+12 pts, 3 done this week"
    assert change_text(replace(ONBOARDING, delta_points=None, done_this_week=0)) == "first summary"
    assert change_text(replace(ONBOARDING, delta_points=None)) == "first summary, 3 done this week"
    assert change_text(replace(ONBOARDING, delta_points=-0.3, done_this_week=0)) == "no change since the last summary"
    assert change_text(replace(ONBOARDING, delta_points=0.0, done_this_week=2)) == "±0 pts, 2 done this week"
    assert change_text(replace(ONBOARDING, delta_points=-4.6, done_this_week=0)) == "−5 pts"


def test_what_the_summary_says():
    text = render_summary(VIEW, GITHUB)
    assert text.startswith("## 📊 OKR summary · 2026-W48\nPeriod 2026-10-01 – 2026-12-31 · 38 days left · "
                           "overall `▓▓▓▓▓░░░░░` **52%**\n")
    assert "`▓▓▓▓▓▓▓▓▓▓` 100% · +5 pts, 2 done this week" in text  # 130% shown capped
    assert f"### 🏁 {UNASSIGNED_TITLE}" in text and "Objective: Keep customers" in text
    for heading in ("### 🙋 Needs an owner", "### 💤 No movement", "### ✅ Done this week"):
        assert heading in text
    assert "unchanged for 30 days" in text and "unchanged for 15 days" in text
    jira = render_summary(jira_view("server"), JIRA)
    assert jira.startswith("h2. OKR summary · 2026-W48\n")
    assert "h3. Needs an owner" in jira and "h3. No movement" in jira and "h3. Done this week" in jira


def test_an_empty_summary_says_so():
    for text in (render_summary(EMPTY, GITHUB), render_summary(EMPTY, JIRA)):
        assert "No key results in this period yet" in text
        assert "Needs an owner" not in text and "Done this week" not in text and "@" not in text


def test_quiet_week_and_ended_period():
    quiet = replace(VIEW, needs_owner=(), no_movement=(), done_by_contributor=(), days_left=-3)
    text = render_summary(quiet, GITHUB)
    assert "Nothing was finished this week." in text and "period ended" in text
    assert "Needs an owner" not in text and "No movement" not in text
    assert "· last day ·" in render_summary(replace(VIEW, days_left=0), JIRA)
    assert "· 1 day left ·" in render_summary(replace(VIEW, days_left=1), JIRA)
