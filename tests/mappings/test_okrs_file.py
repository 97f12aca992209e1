"""mappings.okrs_file: okrs.yml parsed into frozen specs, every error reported with its line, and `check` output.

The YAML of each case is written inline, dedented, starting right after the opening quotes (a backslash
continues the line), so that its first line is line 1 and the expected line numbers can be read off it.
"""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest

from mappings.keys import WorkItemKey
from mappings.okrs_file import (
    KeyResultSpec,
    MappingFile,
    MappingFileError,
    ObjectiveSpec,
    Reminders,
    SummaryTargetSpec,
    current_quarter,
    describe_mapping,
    load_mapping,
    parse_mapping,
)
from mappings.sources import KINDS, Source

HERE = Path(__file__).resolve().parent
VALID = HERE / "okrs" / "valid.yml"
BOTH = frozenset({"github", "jira"})
TODAY = datetime.date(2026, 11, 15)
D = datetime.date


def parse(text: str, trackers: frozenset[str] = BOTH, today: datetime.date = TODAY) -> MappingFile:
    return parse_mapping(textwrap.dedent(text), "okrs.yml", trackers, today)


def errors(text: str, trackers: frozenset[str] = BOTH, today: datetime.date = TODAY) -> list[str]:
    with pytest.raises(MappingFileError) as caught:
        parse(text, trackers, today)
    assert str(caught.value) == "\n".join(caught.value.errors)
    return list(caught.value.errors)


def one_kr(lines: str) -> str:
    """A file whose only key result (id kr, on line 5) has these lines too, from line 7 on."""
    body = textwrap.indent(textwrap.dedent(lines), " " * 8)
    return "objectives:\n  - id: o\n    title: O\n    key_results:\n      - id: kr\n        title: K\n" + body


def one_source(source: str) -> str:
    """A file whose only key result has this one source, on line 8."""
    return one_kr(f"  sources:\n    - {source}\n")


# --- the valid example -----------------------------------------------------------------------------

def gh(kind: str, line: int, **kw) -> Source:
    return KINDS[kind](line=line, **kw)


jira = gh


EXPECTED = MappingFile(
    path=str(VALID), period_start=D(2026, 10, 1), period_end=D(2026, 12, 31),
    objectives=(
        ObjectiveSpec(id="grow-adoption", title="Grow adoption", line=6, key_results=(
            KeyResultSpec(
                id="signups", title="1,000 weekly sign-ups", objective_id="grow-adoption", owner="alice",
                weight=2.0, measure="count", target=20.0, line=9, sources=(
                    gh("github_issue", 16, repo="acme/web", number=12),
                    gh("github_milestone", 17, repo="acme/web", number=3),
                    gh("github_label", 18, repo="acme/web", label="growth"),
                    jira("jira_epic", 19, issue_key="PROJ-12"),
                    jira("jira_label", 20, project="PROJ", label="growth"),
                )),
            KeyResultSpec(
                id="activation", title="Half of new teams active in week one", objective_id="grow-adoption",
                owner="@org/growth", weight=None, measure="points", target=None, line=21,
                sources=(jira("jira_epic", 26, issue_key="PROJ-40"),)),
        )),
        ObjectiveSpec(id="reliability", title="Be dependable", line=27, reminders=False, key_results=(
            KeyResultSpec(
                id="p99-latency", title="p99 latency under 300 ms", objective_id="reliability", owner="bob",
                weight=1.5, measure="count", target=None, line=30,
                sources=(gh("github_label", 35, repo="acme/api", label="perf: latency"),)),
            KeyResultSpec(
                id="on-call", title="Every alert answered within 15 minutes", objective_id="reliability",
                owner="group:sre", weight=None, measure="count", target=12.0, line=38,
                sources=(jira("jira_label", 43, project="OPS", label="alerting"),)),
        )),
    ),
    summaries=(
        SummaryTargetSpec(anchor=WorkItemKey.github("acme/web", 1), objectives=("grow-adoption",), weekday="friday",
                      hour=16, timezone="Europe/Berlin", line=46),
        SummaryTargetSpec(anchor=WorkItemKey.jira(None, "OPS-100"), objectives=None, weekday="monday", hour=9,
                      timezone="UTC", line=51),
    ),
    reminders=Reminders(enabled=True, after_days=5, skip_people=("carol", "acc-123")),
)


def test_valid_example_parses_into_exactly_the_expected_specs():
    assert load_mapping(VALID, BOTH, TODAY) == EXPECTED


def test_load_mapping_takes_a_str_path_too():
    assert load_mapping(str(VALID), BOTH, TODAY) == EXPECTED


def test_key_results_in_file_order_and_by_id():
    mapping = load_mapping(VALID, BOTH, TODAY)
    assert [kr.id for kr in mapping.key_results()] == ["signups", "activation", "p99-latency", "on-call"]
    assert mapping.key_result("on-call") is mapping.objectives[1].key_results[1]
    assert mapping.key_result("grow-adoption") is None  # an objective id is not a key result
    assert mapping.key_result("nope") is None


def test_sources_describe_themselves_and_name_their_anchor():
    sources = load_mapping(VALID, BOTH, TODAY).key_result("signups").sources
    assert [(s.describe(), s.anchor) for s in sources] == [
        ("GitHub issue acme/web#12 and its sub-issues", WorkItemKey.github("acme/web", 12)),
        ("GitHub milestone acme/web/3", None),
        ("GitHub issues labelled 'growth' in acme/web", None),
        ("Jira epic PROJ-12 and its children", WorkItemKey.jira(None, "PROJ-12")),
        ("Jira issues labelled 'growth' in project PROJ", None),
    ]


def test_specs_are_frozen():
    mapping = load_mapping(VALID, BOTH, TODAY)
    with pytest.raises(AttributeError):
        mapping.objectives[0].key_results[0].owner = "mallory"


def test_describe_mapping_exact():
    assert describe_mapping(load_mapping(VALID, BOTH, TODAY)) == [
        "period 2026-10-01 – 2026-12-31 (92 days)",
        "objective grow-adoption: Grow adoption",
        "  key result signups: 1,000 weekly sign-ups — owner alice, measure count, target 20, weight 2",
        "    ← GitHub issue acme/web#12 and its sub-issues",
        "    ← GitHub milestone acme/web/3",
        "    ← GitHub issues labelled 'growth' in acme/web",
        "    ← Jira epic PROJ-12 and its children",
        "    ← Jira issues labelled 'growth' in project PROJ",
        "  key result activation: Half of new teams active in week one — owner: team @org/growth (name one person),"
        " measure points",
        "    ← Jira epic PROJ-40 and its children",
        "objective reliability: Be dependable (no reminders)",
        "  key result p99-latency: p99 latency under 300 ms — owner bob, measure count, weight 1.5",
        "    ← GitHub issues labelled 'perf: latency' in acme/api",
        "  key result on-call: Every alert answered within 15 minutes — owner: team group:sre (name one person),"
        " measure count, target 12",
        "    ← Jira issues labelled 'alerting' in project OPS",
        "summary → GitHub issue acme/web#1, Fridays 16:00 Europe/Berlin, objectives: grow-adoption",
        "summary → Jira issue OPS-100, Mondays 09:00 UTC, objectives: all",
        "reminders after 5 days without progress (not for: carol, acc-123)",
    ]


def test_describe_mapping_without_owner():
    mapping = parse("""\
        period: {start: 2026-10-01, end: 2026-10-01}
        objectives:
          - id: o
            title: O
            key_results:
              - id: anchored
                title: A
                sources:
                  - github_issue: acme/web#1
              - id: queried
                title: Q
                sources:
                  - github_milestone: acme/web/2
        """)
    assert describe_mapping(mapping) == [
        "period 2026-10-01 – 2026-10-01 (1 day)",
        "objective o: O",
        "  key result anchored: A — owner: none (assign the anchor issue or set owner:), measure count",
        "    ← GitHub issue acme/web#1 and its sub-issues",
        # a milestone has no assignee to take the owner from
        "  key result queried: Q — owner: none (set owner:), measure count",
        "    ← GitHub milestone acme/web/2",
        "reminders after 7 days without progress",  # the defaults, and no summary
    ]


# --- the period -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "quarter"), [
    (D(2026, 1, 1), (D(2026, 1, 1), D(2026, 3, 31))),
    (D(2026, 3, 31), (D(2026, 1, 1), D(2026, 3, 31))),
    (D(2026, 4, 1), (D(2026, 4, 1), D(2026, 6, 30))),
    (D(2026, 6, 30), (D(2026, 4, 1), D(2026, 6, 30))),
    (D(2026, 8, 15), (D(2026, 7, 1), D(2026, 9, 30))),
    (D(2026, 10, 1), (D(2026, 10, 1), D(2026, 12, 31))),
    (D(2026, 12, 1), (D(2026, 10, 1), D(2026, 12, 31))),
    (D(2026, 12, 31), (D(2026, 10, 1), D(2026, 12, 31))),
    (D(2028, 2, 29), (D(2028, 1, 1), D(2028, 3, 31))),
])
def test_current_quarter(today, quarter):
    assert current_quarter(today) == quarter


@pytest.mark.parametrize(("today", "start", "end"), [
    (D(2026, 12, 31), D(2026, 10, 1), D(2026, 12, 31)),
    (D(2027, 1, 1), D(2027, 1, 1), D(2027, 3, 31)),
    (D(2026, 5, 20), D(2026, 4, 1), D(2026, 6, 30)),
])
def test_without_period_the_quarter_of_today(today, start, end):
    mapping = parse(one_source("github_issue: acme/web#1"), today=today)
    assert (mapping.period_start, mapping.period_end) == (start, end)


def test_period_ends_before_it_starts():
    assert errors("""\
        period:
          start: 2026-10-01
          end: 2026-09-30
        objectives:
          - id: o
            title: O
            key_results:
              - id: kr
                title: K
                sources:
                  - jira_epic: PROJ-1
        """) == ["okrs.yml:3: period ends (2026-09-30) before it starts (2026-10-01)"]


def test_period_bounds_must_be_dates():
    assert errors("""\
        period:
          start: soon
          end: 2026-02-30
        objectives: []
        """) == [
        "okrs.yml:2: period start must be a date like 2026-10-01 (got 'soon')",
        "okrs.yml:3: period end must be a date like 2026-10-01 (got 2026-02-30)",
    ]


def test_period_bounds_are_whole_days_not_times():
    assert errors("""\
        period:
          start: 2026-10-01 09:00:00
          end: "2026-12-31"
        objectives: []
        """) == [
        "okrs.yml:2: period start must be a date like 2026-10-01 (got 2026-10-01 09:00:00)",
        "okrs.yml:3: period end must be a date like 2026-10-01 (got '2026-12-31')",
    ]


@pytest.mark.parametrize(("period", "message"), [
    ("period:\n  start: 2026-10-01", "period has a start but no end"),
    ("period:\n  end: 2026-12-31", "period has an end but no start"),
    ("period:", "period has no start and no end"),
    ("period: {}", "period has no start and no end"),
])
def test_period_needs_both_bounds(period, message):
    assert errors(period + "\n" + one_source("jira_epic: PROJ-1")) == [
        f"okrs.yml:1: {message} (give both, or remove period: for the current quarter)",
    ]


def test_period_must_be_a_mapping():
    assert errors("period: 2026-Q4\n" + one_source("jira_epic: PROJ-1")) == [
        "okrs.yml:1: period must be a mapping with start: and end: (got '2026-Q4')",
    ]


# --- the file as a whole -------------------------------------------------------------------------

def test_invalid_yaml():
    assert errors("""\
        objectives:
          - id: o
            title: O
           key_results: []
        """) == ["okrs.yml:4: invalid YAML: expected <block end>, but found '<block mapping start>'"]


def test_invalid_yaml_mapping_values():
    assert errors("objectives:\n  - id: o\n    title: a: b\n") == [
        "okrs.yml:3: invalid YAML: mapping values are not allowed here",
    ]


def test_invalid_characters():
    assert errors("objectives:\n  - id: o\x07\n") == [
        "okrs.yml:2: invalid YAML: special characters are not allowed (character #x0007)",
    ]


def test_two_documents_are_invalid():
    assert errors("objectives: []\n---\nobjectives: []\n") == [
        "okrs.yml:2: invalid YAML: but found another document",
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing yet\n", "~\n"])
def test_empty_file(text):
    assert errors(text) == ["okrs.yml:1: the file is empty (expected objectives:, and optionally period:)"]


@pytest.mark.parametrize(("text", "got"), [("- id: o\n", "a list"), ("objectives\n", "'objectives'")])
def test_top_level_not_a_mapping(text, got):
    assert errors(text) == [f"okrs.yml:1: the top level must be a mapping with objectives: (got {got})"]


def test_only_period_is_valid_and_maps_nothing():
    mapping = parse("""\
        period:
          start: 2026-10-01
          end: 2026-12-31
        """)
    assert (mapping.period_start, mapping.period_end, mapping.objectives, mapping.summaries) == (
        D(2026, 10, 1), D(2026, 12, 31), (), ())


@pytest.mark.parametrize("objectives", ["", "objectives: []\n", "objectives:\n"])
def test_only_summaries_is_valid(objectives):
    mapping = parse(f"{objectives}summaries:\n  - github_issue: acme/web#1\n")
    assert ([t.id for t in mapping.summaries], mapping.objectives) == (["github:acme/web#1"], ())


def test_summaries_and_period_without_objectives_is_valid():
    mapping = parse("period: {start: 2026-10-01, end: 2026-12-31}\nsummaries:\n  - github_issue: acme/web#1\n")
    assert (mapping.period_end, [t.id for t in mapping.summaries], mapping.objectives) == (
        D(2026, 12, 31), ["github:acme/web#1"], ())


def test_summaries_only_still_reports_unknown_objectives():
    assert errors("summaries:\n  - github_issue: acme/web#1\n    objectives: [growth]\n") == [
        "okrs.yml:3: summary target covers unknown objective 'growth'"]


def test_objectives_not_a_list():
    assert errors("""\
        objectives:
          id: o
          title: O
        """) == ["okrs.yml:2: objectives must be a list (got a mapping)"]


def test_unknown_keys_at_every_level():
    assert errors("""\
        summary: weekly
        period:
          start: 2026-10-01
          end: 2026-12-31
          timezone: UTC
        objectives:
          - id: o
            title: O
            owner: alice
            key_results:
              - id: signups
                title: K
                foo: 1
                sources:
                  - jira_epic: PROJ-1
        nudges: {}
        """) == [
        "okrs.yml:1: unknown key 'summary' at the top level (allowed: period, objectives, summaries, reminders)",
        "okrs.yml:5: unknown key 'timezone' in period (allowed: start, end)",
        "okrs.yml:9: unknown key 'owner' in objective 'o' (allowed: id, title, key_results, reminders)",
        "okrs.yml:13: unknown key 'foo' in key result 'signups' (allowed: id, title, owner, weight, measure, target, "
        "sources, accept_labels_from)",
        "okrs.yml:16: unknown key 'nudges' at the top level (allowed: period, objectives, summaries, reminders)",
    ]


def test_repeated_key():
    assert errors(one_kr("""\
        title: K again
        sources:
          - jira_epic: PROJ-1
        """)) == ["okrs.yml:7: key 'title' repeated in key result 'kr' (first on line 6)"]


# --- objectives and key results ------------------------------------------------------------------

def test_missing_ids_and_titles():
    assert errors("""\
        objectives:
          - title: O
            key_results:
              - title: K
                sources:
                  - jira_epic: PROJ-1
          - id: o2
            key_results:
              - id: kr
                sources:
                  - jira_epic: PROJ-2
        """) == [
        "okrs.yml:2: objective #1 has no id",
        "okrs.yml:4: key result #1 of objective #1 has no id",
        "okrs.yml:7: objective 'o2' has no title",
        "okrs.yml:9: key result 'kr' has no title",
    ]


def test_empty_title():
    assert errors("""\
        objectives:
          - id: o
            title: O
            key_results:
              - id: kr2
                title: ""
                sources:
                  - jira_epic: PROJ-2
              - id: kr3
                title: [a, b]
                sources:
                  - jira_epic: PROJ-3
        """) == [
        "okrs.yml:6: key result 'kr2' title must be non-empty text (got '')",
        "okrs.yml:10: key result 'kr3' title must be non-empty text (got a list)",
    ]


def test_invalid_ids():
    assert errors("""\
        objectives:
          - id: Grow_Adoption
            title: O
            key_results:
              - id: -signups
                title: K
                sources:
                  - jira_epic: PROJ-1
              - id: [a]
                title: K
                sources:
                  - jira_epic: PROJ-2
        """) == [
        "okrs.yml:2: invalid id 'Grow_Adoption' (expected lowercase letters, digits and '-', starting with a letter "
        "or digit, e.g. grow-adoption)",
        "okrs.yml:5: invalid id '-signups' (expected lowercase letters, digits and '-', starting with a letter "
        "or digit, e.g. grow-adoption)",
        "okrs.yml:9: invalid id [a] (expected lowercase letters, digits and '-', starting with a letter "
        "or digit, e.g. grow-adoption)",
    ]


def test_numeric_id_is_text():
    mapping = parse(one_source("jira_epic: PROJ-1").replace("- id: o\n", "- id: 2026\n"))
    assert mapping.objectives[0].id == "2026"


def test_duplicate_ids_across_objectives_and_key_results():
    assert errors("""\
        objectives:
          - id: grow
            title: O
            key_results:
              - id: grow
                title: K
                sources:
                  - jira_epic: PROJ-1
          - id: more
            title: O2
            key_results:
              - id: signups
                title: K
                sources:
                  - jira_epic: PROJ-2
              - id: signups
                title: K again
                sources:
                  - jira_epic: PROJ-3
        """) == [
        "okrs.yml:5: duplicate id 'grow' (first defined on line 2)",
        "okrs.yml:16: duplicate id 'signups' (first defined on line 12)",
    ]


@pytest.mark.parametrize("value", ["", " []"])
def test_objective_without_key_results(value):
    assert errors(f"objectives:\n  - id: o\n    title: O\n    key_results:{value}\n") == [
        "okrs.yml:4: objective 'o' has no key results",
    ]


def test_objective_key_results_missing_or_not_a_list():
    assert errors("""\
        objectives:
          - id: o
            title: O
          - id: p
            title: P
            key_results: signups
        """) == [
        "okrs.yml:2: objective 'o' has no key results",
        "okrs.yml:6: objective 'p' key_results must be a list (got 'signups')",
    ]


def test_items_that_are_not_mappings():
    assert errors("""\
        objectives:
          - grow
          - id: o
            title: O
            key_results:
              - signups
        """) == [
        "okrs.yml:2: objective #1 must be a mapping with id:, title: and key_results: (got 'grow')",
        "okrs.yml:6: key result #1 of objective 'o' must be a mapping with id:, title: and sources: (got 'signups')",
    ]


def test_key_result_without_source():
    assert errors("""\
        objectives:
          - id: o
            title: O
            key_results:
              - id: signups
                title: K
              - id: more
                title: M
                sources: []
              - id: most
                title: M
                sources:
              - id: wrong
                title: W
                sources: {jira_epic: PROJ-1}
        """) == [
        "okrs.yml:5: key result 'signups' has no source",
        "okrs.yml:9: key result 'more' has no source",
        "okrs.yml:12: key result 'most' has no source",
        "okrs.yml:15: key result 'wrong' sources must be a list (got a mapping)",
    ]


# --- values of a key result ----------------------------------------------------------------------

def test_measure_weight_target_given():
    kr = parse(one_kr("""\
        measure: points
        weight: 0.5
        target: 1_000
        sources:
          - jira_epic: PROJ-1
        """)).key_result("kr")
    assert (kr.measure, kr.weight, kr.target, kr.owner) == ("points", 0.5, 1000.0, None)


def test_measure_defaults_to_count():
    assert parse(one_source("jira_epic: PROJ-1")).key_result("kr").measure == "count"


@pytest.mark.parametrize(("value", "got"), [("percent", "'percent'"), ("Count", "'Count'"), ("", "nothing"),
                                            ("[count]", "a list")])
def test_measure_must_be_count_or_points(value, got):
    assert errors(one_kr(f"measure: {value}\nsources: [{{jira_epic: PROJ-1}}]\n")) == [
        f"okrs.yml:7: key result 'kr' measure must be count or points (got {got})",
    ]


@pytest.mark.parametrize(("value", "got"), [
    ("0", "0"), ("-1", "-1"), ("true", "true"), ("yes", "yes"), ('"2"', "'2'"), (".inf", ".inf"), (".nan", ".nan"),
    ("", "nothing"), ("{n: 1}", "a mapping"), ("1" + "0" * 400, "1" + "0" * 400),
])
@pytest.mark.parametrize("field", ["weight", "target"])
def test_weight_and_target_must_be_positive_numbers(field, value, got):
    assert errors(one_kr(f"{field}: {value}\nsources: [{{jira_epic: PROJ-1}}]\n")) == [
        f"okrs.yml:7: key result 'kr' {field} must be a number > 0 (got {got})",
    ]


@pytest.mark.parametrize(("written", "owner"), [
    ("alice", "alice"), ("'@alice'", "alice"), ('"@org/team"', "@org/team"), ("group:eng", "group:eng"),
    ("557058:f58131cb", "557058:f58131cb"), ("12345", "12345"),
])
def test_owner(written, owner):
    assert parse(one_kr(f"owner: {written}\nsources: [{{jira_epic: PROJ-1}}]\n")).key_result("kr").owner == owner


@pytest.mark.parametrize(("value", "message"), [
    ("", "owner must be one person or team (got nothing)"),
    ('""', "owner must be one person or team (got '')"),
    ("[alice, bob]", "owner must be one person or team (got a list)"),
    ("'@'", "owner '@' names no one (expected a login, @org/team or group:<name>)"),
    ("'@org/'", "owner '@org/' names no one (expected a login, @org/team or group:<name>)"),
    ("'group:'", "owner 'group:' names no one (expected a login, @org/team or group:<name>)"),
])
def test_owner_must_name_one_person_or_team(value, message):
    assert errors(one_kr(f"owner: {value}\nsources: [{{jira_epic: PROJ-1}}]\n")) == [
        f"okrs.yml:7: key result 'kr' {message}",
    ]


# --- sources -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "message"), [
    ("github_issue: acme/web", "malformed github_issue 'acme/web' (expected owner/repo#number)"),
    ("github_issue: acme/web#0", "malformed github_issue 'acme/web#0' (expected owner/repo#number)"),
    ("github_issue: web#12", "malformed github_issue 'web#12' (expected owner/repo#number)"),
    ("github_issue: acme/web #12", "malformed github_issue 'acme/web' (expected owner/repo#number)"),  # a comment
    ("github_issue: 12", "malformed github_issue 12 (expected owner/repo#number)"),
    ("github_issue:", "malformed github_issue nothing (expected owner/repo#number)"),
    ("github_milestone: acme/web#3", "malformed github_milestone 'acme/web#3' (expected owner/repo/number)"),
    ("github_milestone: acme/web/v1", "malformed github_milestone 'acme/web/v1' (expected owner/repo/number)"),
    ("github_label: growth", "malformed github_label 'growth' (expected {repo: owner/repo, label: name})"),
    ("github_label: {repo: acme/web}", "malformed github_label {repo: acme/web} (expected {repo: owner/repo, "
                                       "label: name})"),
    ("github_label: {label: growth}", "malformed github_label {label: growth} (expected {repo: owner/repo, "
                                      "label: name})"),
    ("github_label: {repo: acme, label: growth}", "malformed github_label {repo: acme, label: growth} "
                                                  "(expected {repo: owner/repo, label: name})"),
    ("github_label: {repo: acme/web, label: growth, color: red}", "malformed github_label {repo: acme/web, "
     "label: growth, color: red} (expected {repo: owner/repo, label: name})"),
    ("github_label: {repo: acme/web, label: ''}", "malformed github_label {repo: acme/web, label: } "
                                                  "(expected {repo: owner/repo, label: name})"),
    ("jira_epic: proj-12", "malformed jira_epic 'proj-12' (expected a Jira issue key like PROJ-12)"),
    ("jira_epic: PROJ", "malformed jira_epic 'PROJ' (expected a Jira issue key like PROJ-12)"),
    ("jira_epic: P-12", "malformed jira_epic 'P-12' (expected a Jira issue key like PROJ-12)"),
    ("jira_label: {project: PROJ}", "malformed jira_label {project: PROJ} (expected {project: PROJECT, "
                                    "label: name})"),
    ("jira_label: {label: growth}", "malformed jira_label {label: growth} (expected {project: PROJECT, "
                                    "label: name})"),
    ("jira_label: {project: proj, label: growth}", "malformed jira_label {project: proj, label: growth} "
                                                   "(expected {project: PROJECT, label: name})"),
    ("gitlab_issue: acme/web#12", "unknown source kind 'gitlab_issue' (allowed: github_issue, github_milestone, "
                                  "github_label, jira_epic, jira_label)"),
    ("acme/web#12", "a source must be one 'kind: value' pair, kind one of github_issue, github_milestone, "
                    "github_label, jira_epic, jira_label (got 'acme/web#12')"),
    ("{github_issue: acme/web#12, jira_epic: PROJ-1}", "a source must be one 'kind: value' pair, kind one of "
     "github_issue, github_milestone, github_label, jira_epic, jira_label (got {github_issue: acme/web#12, "
     "jira_epic: PROJ-1})"),
])
def test_malformed_sources(source, message):
    assert errors(one_source(source)) == [f"okrs.yml:8: {message}"]


def test_block_style_label_source_and_its_line():
    mapping = parse(one_kr("""\
        sources:
          - jira_epic: PROJ-1
          - github_label:
              repo: acme/web
              label: "good first issue"
        """))
    assert mapping.key_result("kr").sources[1] == gh("github_label", 9, repo="acme/web", label="good first issue")


def test_long_values_are_cut_in_messages():
    long = "{repo: acme/web, label: growth, " + ", ".join(f"k{n}: v" for n in range(20)) + "}"
    [message] = errors(one_source(f"github_label: {long}"))
    assert message == ("okrs.yml:8: malformed github_label {repo: acme/web, label: growth, k0: v, k1: v, k2: v, k3: "
                       "... (expected {repo: owner/repo, label: name})")


def test_source_for_a_tracker_not_configured():
    assert errors(one_kr("""\
        sources:
          - github_issue: acme/web#12
          - jira_epic: PROJ-12
          - github_label: {repo: acme/web, label: growth}
        """), trackers=frozenset({"jira"})) == [
        "okrs.yml:8: github_issue source, but GitHub is not configured (set OKRBOT_GITHUB_WEBHOOK_SECRET)",
        "okrs.yml:10: github_label source, but GitHub is not configured (set OKRBOT_GITHUB_WEBHOOK_SECRET)",
    ]
    assert errors(one_source("jira_label: {project: PROJ, label: growth}"), trackers=frozenset({"github"})) == [
        "okrs.yml:8: jira_label source, but Jira is not configured (set OKRBOT_JIRA_WEBHOOK_SECRET)",
    ]


def test_unconfigured_and_malformed_are_both_reported():
    assert errors(one_source("github_issue: acme/web"), trackers=frozenset()) == [
        "okrs.yml:8: github_issue source, but GitHub is not configured (set OKRBOT_GITHUB_WEBHOOK_SECRET)",
        "okrs.yml:8: malformed github_issue 'acme/web' (expected owner/repo#number)",
    ]


def test_duplicate_sources():
    assert errors("""\
        objectives:
          - id: o
            title: O
            key_results:
              - id: a
                title: A
                sources:
                  - github_issue: acme/web#12
                  - github_label: {repo: acme/web, label: growth}
                  - jira_label: {project: PROJ, label: growth}
                  - jira_label: {project: PROJ, label: Growth}
              - id: b
                title: B
                sources:
                  - github_issue: Acme/Web#12
                  - jira_epic: PROJ-7
                  - github_label: {repo: acme/web, label: Growth}
              - id: c
                title: C
                sources:
                  - jira_epic: PROJ-7
        """) == [
        "okrs.yml:11: duplicate source: Jira issues labelled 'Growth' in project PROJ (first used on line 10)",
        "okrs.yml:15: duplicate source: GitHub issue Acme/Web#12 and its sub-issues (first used on line 8)",
        "okrs.yml:21: duplicate source: Jira epic PROJ-7 and its children (first used on line 16)",
    ]


def test_a_milestone_or_label_may_feed_several_key_results():
    mapping = parse("""\
        objectives:
          - id: o
            title: O
            key_results:
              - id: a
                title: A
                sources:
                  - github_milestone: acme/web/3
              - id: b
                title: B
                sources:
                  - github_milestone: acme/web/3
        """)
    assert [kr.sources[0].line for kr in mapping.key_results()] == [8, 12]


# --- many errors at once -------------------------------------------------------------------------

def test_all_errors_are_reported_sorted_by_line():
    assert errors("""\
        objectives:
          - id: grow-adoption
            title: Grow adoption
            key_results:
              - id: signups
                title: 1,000 weekly sign-ups
                weight: 0
                sources:
                  - github_issue: acme/web
                  - jira_epic: PROJ-12
              - id: signups
                title: Again
        period:
          start: 2026-10-01
          end: 2026-09-30
        """, trackers=frozenset({"github"})) == [
        "okrs.yml:7: key result 'signups' weight must be a number > 0 (got 0)",
        "okrs.yml:9: malformed github_issue 'acme/web' (expected owner/repo#number)",
        "okrs.yml:10: jira_epic source, but Jira is not configured (set OKRBOT_JIRA_WEBHOOK_SECRET)",
        "okrs.yml:11: duplicate id 'signups' (first defined on line 5)",
        "okrs.yml:11: key result 'signups' has no source",
        "okrs.yml:15: period ends (2026-09-30) before it starts (2026-10-01)",
    ]


# --- reading the file ----------------------------------------------------------------------------

def test_missing_file(tmp_path):
    path = tmp_path / "okrs.yml"
    with pytest.raises(MappingFileError) as caught:
        load_mapping(path, BOTH, TODAY)
    assert caught.value.errors == (f"{path}:0: cannot read: No such file or directory",)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(MappingFileError) as caught:
        load_mapping(tmp_path, BOTH, TODAY)
    assert str(caught.value) == f"{tmp_path}:0: cannot read: Is a directory"


def test_file_not_utf8(tmp_path):
    path = tmp_path / "okrs.yml"
    path.write_bytes(b"objectives:\n  - id: caf\xe9\n")
    with pytest.raises(MappingFileError) as caught:
        load_mapping(path, BOTH, TODAY)
    assert str(caught.value) == f"{path}:0: cannot read: not UTF-8 text (invalid continuation byte at byte 23)"


def test_errors_name_the_file_as_given(tmp_path):
    path = tmp_path / "okrs.yml"
    path.write_text("objectives: 3\n")
    with pytest.raises(MappingFileError) as caught:
        load_mapping(path, BOTH, TODAY)
    assert caught.value.errors == (f"{path}:1: objectives must be a list (got 3)",)


def test_error_from_one_message():
    error = MappingFileError("okrs.yml:0: cannot read: gone")
    assert (error.errors, str(error)) == (("okrs.yml:0: cannot read: gone",), "okrs.yml:0: cannot read: gone")
