"""mappings.okrs_schedule: okrs.yml's summaries: and reminders:, read through parse_mapping so lines are checked.

Every case is BASE (two objectives, grow and keep, on lines 1-13) followed by the case's own lines from line 14
on, written dedented right after the opening quotes (a backslash continues the line).
"""

from __future__ import annotations

import datetime
import textwrap

import pytest

from mappings.keys import WorkItemKey
from mappings.okrs_file import (
    MappingFile,
    MappingFileError,
    Reminders,
    SummaryTargetSpec,
    describe_mapping,
    parse_mapping,
)

BOTH = frozenset({"github", "jira"})
TODAY = datetime.date(2026, 11, 15)
BASE = """\
objectives:
  - id: grow
    title: G
    key_results:
      - id: signups
        title: S
        sources: [{jira_epic: PROJ-1}]
  - id: keep
    title: K
    key_results:
      - id: uptime
        title: U
        sources: [{github_issue: acme/web#2}]
"""
ALLOWED = "(allowed: github_issue, jira_issue, email, objectives, weekday, hour, timezone)"


def parse(extra: str, trackers: frozenset[str] = BOTH) -> MappingFile:
    return parse_mapping(BASE + textwrap.dedent(extra), "okrs.yml", trackers, TODAY)


def errors(extra: str, trackers: frozenset[str] = BOTH) -> list[str]:
    with pytest.raises(MappingFileError) as caught:
        parse(extra, trackers)
    return list(caught.value.errors)


def target(line: int = 15, **kw) -> SummaryTargetSpec:
    fields = {"anchor": "github:acme/web#1", "objectives": None, "weekday": "monday",
              "hour": 9, "timezone": "UTC", "line": line} | kw
    return SummaryTargetSpec(**(fields | {"anchor": WorkItemKey.parse(fields["anchor"])}))


def one_target(lines: str) -> str:
    """A summaries: list whose only target starts on line 15 with these lines, e.g. "github_issue: acme/web#1"."""
    return "summaries:\n  - " + textwrap.indent(textwrap.dedent(lines), "    ").lstrip()


# --- defaults ------------------------------------------------------------------------------------

def test_without_the_keys_no_summary_and_default_reminders():
    mapping = parse("")
    assert (mapping.summaries, mapping.reminders) == ((), Reminders(enabled=True, after_days=7, skip_people=()))
    assert [objective.reminders for objective in mapping.objectives] == [True, True]


@pytest.mark.parametrize("value", ["", " []", " ~"])
def test_empty_summaries_and_reminders_are_the_defaults(value):
    mapping = parse(f"summaries:{value}\nreminders:{value if value != ' []' else ' {}'}\n")
    assert (mapping.summaries, mapping.reminders) == ((), Reminders())


def test_specs_are_frozen():
    mapping = parse(one_target("github_issue: acme/web#1"))
    with pytest.raises(AttributeError):
        mapping.summaries[0].hour = 3
    with pytest.raises(AttributeError):
        mapping.reminders.enabled = False


# --- summary targets -----------------------------------------------------------------------------

def test_github_target_with_defaults():
    [found] = parse(one_target("github_issue: acme/web#1")).summaries
    assert found == target()
    assert found.id == "github:acme/web#1"


def test_jira_target_with_everything():
    [found] = parse(one_target("""\
        jira_issue: OPS-100
        objectives: [keep, grow]
        weekday: Sunday
        hour: 0
        timezone: America/New_York
        """)).summaries
    assert found == target(anchor="jira:*/OPS-100", objectives=("keep", "grow"), weekday="sunday",
                           hour=0, timezone="America/New_York")
    assert found.id == "jira:OPS-100"


def test_the_id_ignores_the_case_of_a_github_repository():
    [found] = parse(one_target("github_issue: Acme/Web#1")).summaries
    assert (str(found.anchor), found.id) == ("github:Acme/Web#1", "github:acme/web#1")


@pytest.mark.parametrize(("written", "weekday"), [("monday", "monday"), ("WEDNESDAY", "wednesday"),
                                                  ("Saturday", "saturday"), ("' friday '", "friday")])
def test_weekday_ignores_case(written, weekday):
    assert parse(one_target(f"github_issue: acme/web#1\nweekday: {written}\n")).summaries[0].weekday == weekday


@pytest.mark.parametrize("hour", [0, 9, 23])
def test_hour(hour):
    assert parse(one_target(f"github_issue: acme/web#1\nhour: {hour}\n")).summaries[0].hour == hour


def test_an_objective_listed_twice_counts_once():
    mapping = parse(one_target("github_issue: acme/web#1\nobjectives: [keep, grow, keep]\n"))
    assert mapping.summaries[0].objectives == ("keep", "grow")


def test_several_targets_in_file_order():
    mapping = parse("""\
        summaries:
          - jira_issue: OPS-1
          - github_issue: acme/web#1
            objectives: [grow]
          - github_issue: acme/web#2
        """)
    assert [(t.id, t.objectives, t.line) for t in mapping.summaries] == [
        ("jira:OPS-1", None, 15), ("github:acme/web#1", ("grow",), 16), ("github:acme/web#2", None, 18),
    ]


@pytest.mark.parametrize(("value", "got"), [("acme/web#1", "'acme/web#1'"),
                                            ("{github_issue: acme/web#1}", "a mapping")])
def test_summaries_must_be_a_list(value, got):
    assert errors(f"summaries: {value}\n") == [f"okrs.yml:14: summaries must be a list (got {got})"]


def test_a_target_must_be_a_mapping():
    assert errors("summaries:\n  - acme/web#1\n  - [OPS-1]\n") == [
        "okrs.yml:15: summary target #1 must be a mapping with github_issue:, jira_issue: or email: (got 'acme/web#1')",
        "okrs.yml:16: summary target #2 must be a mapping with github_issue:, jira_issue: or email: (got a list)",
    ]


def test_a_target_names_exactly_one_issue():
    assert errors("""\
        summaries:
          - weekday: monday
          - github_issue: acme/web#1
            jira_issue: OPS-1
        """) == [
        "okrs.yml:15: summary target #1 names no issue (give one of github_issue:, jira_issue: or email:)",
        "okrs.yml:16: summary target #2 names two places (give one of github_issue:, jira_issue: or email:)",
    ]


@pytest.mark.parametrize(("issue", "message"), [
    ("github_issue: acme/web", "malformed github_issue 'acme/web' (expected owner/repo#number)"),
    ("github_issue: acme/web#0", "malformed github_issue 'acme/web#0' (expected owner/repo#number)"),
    ("github_issue: web#1", "malformed github_issue 'web#1' (expected owner/repo#number)"),
    ("github_issue: 12", "malformed github_issue 12 (expected owner/repo#number)"),
    ("github_issue:", "malformed github_issue nothing (expected owner/repo#number)"),
    ("github_issue: OPS-100", "malformed github_issue 'OPS-100' (expected owner/repo#number)"),
    ("jira_issue: ops-100", "malformed jira_issue 'ops-100' (expected a Jira issue key like PROJ-12)"),
    ("jira_issue: OPS", "malformed jira_issue 'OPS' (expected a Jira issue key like PROJ-12)"),
    ("jira_issue: acme/web#1", "malformed jira_issue 'acme/web#1' (expected a Jira issue key like PROJ-12)"),
])
def test_malformed_issue(issue, message):
    assert errors(one_target(issue)) == [f"okrs.yml:15: {message}"]


def test_unknown_and_repeated_keys_in_a_target():
    assert errors(one_target("""\
        github_issue: acme/web#1
        channel: general
        hour: 9
        hour: 10
        """)) == [
        f"okrs.yml:16: unknown key 'channel' in summary target #1 {ALLOWED}",
        "okrs.yml:18: key 'hour' repeated in summary target #1 (first on line 17)",
    ]


def test_a_target_covers_objectives_of_this_file_only():
    assert errors(one_target("""\
        github_issue: acme/web#1
        objectives:
          - grow
          - x
          - signups
        """)) == [
        "okrs.yml:18: summary target covers unknown objective 'x'",
        "okrs.yml:19: summary target covers unknown objective 'signups'",  # a key result, not an objective
    ]


def test_an_objective_with_errors_of_its_own_can_still_be_covered():
    text = BASE.replace("    title: G\n", "    titel: G\n") + one_target("jira_issue: OPS-1\nobjectives: [grow]\n")
    with pytest.raises(MappingFileError) as caught:
        parse_mapping(text, "okrs.yml", BOTH, TODAY)
    assert caught.value.errors == (
        "okrs.yml:2: objective 'grow' has no title",
        "okrs.yml:3: unknown key 'titel' in objective 'grow' (allowed: id, title, key_results, reminders)",
    )


@pytest.mark.parametrize(("value", "line", "message"), [
    ("grow", 16, "summary target #1 objectives must be a list of objective ids (got 'grow')"),
    ("{grow: 1}", 16, "summary target #1 objectives must be a list of objective ids (got a mapping)"),
    ("[]", 16, "summary target #1 covers no objectives (list some, or remove objectives: for all)"),
    ("", 16, "summary target #1 covers no objectives (list some, or remove objectives: for all)"),
    ("[grow, [keep]]", 16, "summary target #1 objectives must be objective ids (got a list)"),
    ("[grow, '']", 16, "summary target #1 objectives must be objective ids (got '')"),
])
def test_objectives_must_be_a_list_of_ids(value, line, message):
    assert errors(one_target(f"github_issue: acme/web#1\nobjectives: {value}\n")) == [f"okrs.yml:{line}: {message}"]


@pytest.mark.parametrize(("value", "got"), [("mon", "'mon'"), ("1", "1"), ("''", "''"), ("", "nothing"),
                                            ("[monday]", "a list"), ("weekdays", "'weekdays'")])
def test_weekday_must_be_a_day_name(value, got):
    assert errors(one_target(f"github_issue: acme/web#1\nweekday: {value}\n")) == [
        f"okrs.yml:16: summary target #1 weekday must be a day name, monday to sunday (got {got})",
    ]


@pytest.mark.parametrize(("value", "got"), [("24", "24"), ("-1", "-1"), ("9.5", "9.5"), ("'9'", "'9'"),
                                            ("09", "'09'"), ("9:00", "9:00"), ("true", "true"), ("", "nothing")])
def test_hour_must_be_a_whole_number_0_to_23(value, got):
    assert errors(one_target(f"github_issue: acme/web#1\nhour: {value}\n")) == [
        f"okrs.yml:16: summary target #1 hour must be a whole number from 0 to 23 (got {got})",
    ]


@pytest.mark.parametrize(("value", "shown"), [
    ("Mars/Olympus", "'Mars/Olympus'"), ("utc", "'utc'"), ("Europe", "'Europe'"), ("''", "''"), ("", "nothing"),
    ("/etc/localtime", "'/etc/localtime'"), ("../etc/passwd", "'../etc/passwd'"), ("zone.tab", "'zone.tab'"),
    ("5", "5"), ("[UTC]", "[UTC]"),
])
def test_unknown_timezone(value, shown):
    assert errors(one_target(f"github_issue: acme/web#1\ntimezone: {value}\n")) == [
        f"okrs.yml:16: unknown timezone {shown}",
    ]


def test_target_for_a_tracker_not_configured():
    assert errors("summaries:\n  - github_issue: acme/web#1\n  - jira_issue: OPS-1\n", frozenset({"jira"})) == [
        "okrs.yml:13: github_issue source, but GitHub is not configured (set OKRBOT_GITHUB_WEBHOOK_SECRET)",
        "okrs.yml:15: github_issue summary target, but GitHub is not configured (set OKRBOT_GITHUB_WEBHOOK_SECRET)",
    ]
    assert errors("summaries:\n  - jira_issue: OPS-1\n", frozenset({"github"})) == [
        "okrs.yml:7: jira_epic source, but Jira is not configured (set OKRBOT_JIRA_WEBHOOK_SECRET)",
        "okrs.yml:15: jira_issue summary target, but Jira is not configured (set OKRBOT_JIRA_WEBHOOK_SECRET)",
    ]


def test_duplicate_targets():
    assert errors("""\
        summaries:
          - github_issue: acme/web#1
            objectives: [grow]
          - jira_issue: OPS-1
          - github_issue: Acme/Web#1
            objectives: [keep]
          - jira_issue: OPS-1
            weekday: friday
          - github_issue: acme/web#2
        """) == [
        "okrs.yml:18: duplicate summary target: GitHub issue Acme/Web#1 (first used on line 15)",
        "okrs.yml:20: duplicate summary target: Jira issue OPS-1 (first used on line 17)",
    ]


def test_every_error_of_a_target_at_once_sorted_by_line():
    assert errors("""\
        summaries:
          - timezone: Mars/Olympus
            hour: 25
            objectives: [nope]
            weekday: someday
            github_issue: acme
        """, frozenset({"jira"})) == [
        "okrs.yml:13: github_issue source, but GitHub is not configured (set OKRBOT_GITHUB_WEBHOOK_SECRET)",
        "okrs.yml:15: unknown timezone 'Mars/Olympus'",
        "okrs.yml:16: summary target #1 hour must be a whole number from 0 to 23 (got 25)",
        "okrs.yml:17: summary target covers unknown objective 'nope'",
        "okrs.yml:18: summary target #1 weekday must be a day name, monday to sunday (got 'someday')",
        "okrs.yml:19: github_issue summary target, but GitHub is not configured (set OKRBOT_GITHUB_WEBHOOK_SECRET)",
        "okrs.yml:19: malformed github_issue 'acme' (expected owner/repo#number)",
    ]


# --- reminders -----------------------------------------------------------------------------------

def test_reminders_with_everything():
    mapping = parse("""\
        reminders:
          enabled: no
          after_days: 14
          skip_people: ["@carol", 557058, acc-123, carol]
        """)
    assert mapping.reminders == Reminders(enabled=False, after_days=14, skip_people=("carol", "557058", "acc-123"))


@pytest.mark.parametrize(("value", "expected"), [
    ("{enabled: true}", Reminders()),
    ("{after_days: 1}", Reminders(after_days=1)),
    ("{skip_people: []}", Reminders()),
    ("{skip_people: }", Reminders()),
    ("{skip_people: [dave]}", Reminders(skip_people=("dave",))),
])
def test_each_reminder_key_is_optional(value, expected):
    assert parse(f"reminders: {value}\n").reminders == expected


@pytest.mark.parametrize(("value", "got"), [("false", "false"), ("[carol]", "a list"), ("weekly", "'weekly'")])
def test_reminders_must_be_a_mapping(value, got):
    assert errors(f"reminders: {value}\n") == [
        f"okrs.yml:14: reminders must be a mapping, e.g. {{enabled: false}} (got {got})",
    ]


def test_unknown_and_repeated_keys_in_reminders():
    assert errors("reminders:\n  every: 7\n  after_days: 3\n  after_days: 4\n") == [
        "okrs.yml:15: unknown key 'every' in reminders (allowed: enabled, after_days, skip_people)",
        "okrs.yml:17: key 'after_days' repeated in reminders (first on line 16)",
    ]


@pytest.mark.parametrize(("value", "got"), [("'yes please'", "'yes please'"), ("'false'", "'false'"), ("1", "1"),
                                            ("", "nothing")])
def test_reminders_enabled_must_be_a_boolean(value, got):
    assert errors(f"reminders:\n  enabled: {value}\n") == [
        f"okrs.yml:15: reminders enabled must be true or false (got {got})",
    ]


@pytest.mark.parametrize(("value", "got"), [("0", "0"), ("-3", "-3"), ("1.5", "1.5"), ("'7'", "'7'"),
                                            ("true", "true"), ("", "nothing"), ("[7]", "a list")])
def test_after_days_must_be_a_positive_integer(value, got):
    assert errors(f"reminders:\n  after_days: {value}\n") == [
        f"okrs.yml:15: reminders after_days must be a whole number > 0 (got {got})",
    ]


def test_skip_people_must_be_a_list_of_people():
    assert errors("reminders:\n  skip_people: carol\n") == [
        "okrs.yml:15: reminders skip_people must be a list of logins or account ids (got 'carol')",
    ]
    assert errors("reminders:\n  skip_people:\n    - carol\n    - {name: dave}\n    - '@'\n    - ''\n") == [
        "okrs.yml:17: reminders skip_people must be logins or account ids (got a mapping)",
        "okrs.yml:18: reminders skip_people must be logins or account ids (got '@')",
        "okrs.yml:19: reminders skip_people must be logins or account ids (got '')",
    ]


@pytest.mark.parametrize(("value", "reminders"), [("false", False), ("no", False), ("true", True)])
def test_objective_reminders(value, reminders):
    mapping = parse_mapping(BASE + f"    reminders: {value}\n", "okrs.yml", BOTH, TODAY)
    assert [objective.reminders for objective in mapping.objectives] == [True, reminders]


@pytest.mark.parametrize(("value", "got"), [("'false'", "'false'"), ("off please", "'off please'"), ("0", "0"),
                                            ("", "nothing")])
def test_objective_reminders_must_be_a_boolean(value, got):
    with pytest.raises(MappingFileError) as caught:
        parse_mapping(BASE + f"    reminders: {value}\n", "okrs.yml", BOTH, TODAY)
    assert caught.value.errors == (f"okrs.yml:14: objective 'keep' reminders must be true or false (got {got})",)


# --- describe_mapping ----------------------------------------------------------------------------

def test_describe_summaries_and_reminders_exact():
    text = BASE.replace("  - id: keep\n", "  - id: keep\n    reminders: false\n") + textwrap.dedent("""\
        summaries:
          - github_issue: acme/web#1
            objectives: [grow, keep]
            weekday: thursday
            hour: 7
            timezone: Europe/Berlin
          - jira_issue: OPS-100
        reminders:
          after_days: 1
          skip_people: [carol, acc-123]
        """)
    lines = describe_mapping(parse_mapping(text, "okrs.yml", BOTH, TODAY))
    assert [line for line in lines if line.startswith("objective")] == [
        "objective grow: G",
        "objective keep: K (no reminders)",
    ]
    assert lines[-3:] == [
        "summary → GitHub issue acme/web#1, Thursdays 07:00 Europe/Berlin, objectives: grow, keep",
        "summary → Jira issue OPS-100, Mondays 09:00 UTC, objectives: all",
        "reminders after 1 day without progress (not for: carol, acc-123)",
    ]


@pytest.mark.parametrize(("value", "line"), [
    ("{enabled: false, after_days: 3, skip_people: [carol]}", "reminders off"),
    ("{after_days: 10}", "reminders after 10 days without progress"),
])
def test_describe_reminders(value, line):
    assert describe_mapping(parse(f"reminders: {value}\n"))[-1] == line


def test_describe_target_hours_are_two_digits():
    assert describe_mapping(parse(one_target("jira_issue: OPS-1\nhour: 23\nweekday: sunday\n")))[-2] == (
        "summary → Jira issue OPS-1, Sundays 23:00 UTC, objectives: all")


# --- e-mail targets (issue 13) ----------------------------------------------------------------------

def test_an_email_target_with_its_schedule_and_objectives():
    [target] = parse("""\
        summaries:
          - email: [Lead@Example.com, cto@example.com, lead@example.com]
            objectives: [grow]
            weekday: friday
            hour: 16
            timezone: Europe/Berlin
        """).summaries
    assert target == SummaryTargetSpec(anchor=None, objectives=("grow",), weekday="friday", hour=16,
                                       timezone="Europe/Berlin", line=15,
                                       recipients=("lead@example.com", "cto@example.com"))
    assert (target.id, target.tracker) == ("email:lead@example.com,cto@example.com", "email")
    assert target.describe() == ("e-mail to lead@example.com, cto@example.com, Fridays 16:00 Europe/Berlin, "
                                 "objectives: grow")


def test_one_address_needs_no_list_and_needs_no_tracker_configured():
    [target] = parse_mapping("summaries:\n  - email: lead@example.com\n", "okrs.yml", frozenset(), TODAY).summaries
    assert (target.recipients, target.weekday, target.hour, target.timezone) == (
        ("lead@example.com",), "monday", 9, "UTC")


@pytest.mark.parametrize(("value", "message"), [
    ("[]", "okrs.yml:15: summary target #1 email needs at least one address (e.g. [lead@example.com])"),
    ("", "okrs.yml:15: summary target #1 email needs at least one address (e.g. [lead@example.com])"),
    ("[lead@example.com, 'Bob <bob@example.com>']", "okrs.yml:15: summary target #1 email: not an e-mail address "
                                                    "'Bob <bob@example.com>' (expected a plain address like "
                                                    "lead@example.com)"),
    ("[nobody]", "okrs.yml:15: summary target #1 email: not an e-mail address 'nobody' (expected a plain address "
                 "like lead@example.com)"),
])
def test_bad_email_targets_say_where(value, message):
    assert errors(f"summaries:\n  - email: {value}\n") == [message]


def test_an_email_target_and_an_issue_are_two_places():
    assert errors("summaries:\n  - email: [a@example.com]\n    github_issue: acme/web#1\n") == [
        "okrs.yml:15: summary target #1 names two places (give one of github_issue:, jira_issue: or email:)"]
