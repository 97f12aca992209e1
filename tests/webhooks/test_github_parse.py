"""webhooks.github.parse against every real GitHub body, the hand-made sub_issues bodies, and edits."""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.events import DONE, DROPPED, OPEN, STATES, Event, InstallationEvent, MilestoneEvent, Person
from integration.config import Settings
from webhooks import github
from webhooks.errors import PayloadError
from webhooks.github import GithubOptions, is_used

OPTIONS = Settings().github_options  # the defaults, from the one place they live
HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("OKRBOT_SHARED", HERE.parents[2] / "shared")) / "fixtures" / "github"
HANDMADE = HERE / "fixtures"
EVENTS = ("issues", "issue_comment", "milestone", "installation", "installation_repositories", "ping")
FILES = [(event, path) for event in EVENTS for path in sorted((SHARED / event).glob("*.json"))]
SUB_ISSUE_FILES = sorted(HANDMADE.glob("sub_issues__*.handmade.json"))


def load(event: str, name: str) -> dict:
    """A fresh copy of a real body: edit it freely."""
    return json.loads((SHARED / event / name).read_text())


def issue_body(action: str) -> dict:
    return load("issues", f"octokit-webhooks__{action}.payload.json")


def load_handmade(action: str) -> dict:
    return json.loads((HANDMADE / f"sub_issues__{action}.handmade.json").read_text())


def parse(event: str, payload: dict, options: GithubOptions = OPTIONS) -> github.Parsed:
    return github.parse(event, payload, options)


def only_event(payload: dict, event: str = "issues", options: GithubOptions = OPTIONS) -> Event:
    parsed = parse(event, payload, options)
    assert len(parsed.events) == 1
    return parsed.events[0]


def test_the_fixture_folders_are_there():
    assert len(FILES) >= 50
    assert {path.name for path in SUB_ISSUE_FILES} == {
        f"sub_issues__{action}.handmade.json" for action in github.SUB_ISSUE_ACTIONS}


# --- every real body: facts derived from the body itself ---------------------------------------


@pytest.mark.parametrize(("event", "path"), FILES, ids=lambda v: v if isinstance(v, str) else v.name)
def test_every_fixture_parses_to_what_its_body_says(event, path):
    payload = json.loads(path.read_text())
    before = copy.deepcopy(payload)
    parsed = parse(event, payload)
    assert payload == before  # pure: the body is not touched
    assert (parsed.tracker, parsed.event, parsed.action) == ("github", event, payload.get("action"))
    assert parsed.installation_id == (payload.get("installation") or {}).get("id")
    CHECKS[event](payload, parsed.events)


def _check_issue_events(payload, events):
    issue = payload["issue"]
    if "pull_request" in issue:
        assert events == ()
        return
    (event,) = events
    kinds = github.COMMENT_KINDS if "comment" in payload else {}
    assert event.kind == kinds.get(payload["action"], payload["action"])
    item = event.item
    assert item.key == f"github:{payload['repository']['full_name']}#{issue['number']}"
    assert (item.tracker, item.id, item.title, item.url) == ("github", str(issue["id"]), issue["title"],
                                                             issue["html_url"])
    assert item.state in STATES and item.container == payload["repository"]["full_name"]
    assert [p.login for p in item.assignees] == [a["login"] for a in issue["assignees"]]
    assert list(item.labels) == [label["name"] for label in issue.get("labels") or []]
    assert item.updated_at.tzinfo is not None and item.updated_at.utcoffset().total_seconds() == 0
    assert (item.parent_key, item.parent_id, item.parent_known) == (None, None, False)
    assert event.actor == Person(payload["sender"]["login"])


def _check_milestone(payload, events):
    milestone = payload["milestone"]
    assert events == (MilestoneEvent(payload["action"],
                                     f"{payload['repository']['full_name']}/{milestone['number']}",
                                     milestone["title"], milestone["state"]),)


def _check_installation(payload, events):
    (event,) = events
    assert isinstance(event, InstallationEvent)
    assert (event.action, event.installation_id) == (payload["action"], payload["installation"]["id"])
    assert event.account == payload["installation"]["account"]["login"]


def _check_ping(payload, events):
    assert events == ()


CHECKS = {"issues": _check_issue_events, "issue_comment": _check_issue_events, "milestone": _check_milestone,
          "installation": _check_installation, "installation_repositories": _check_installation,
          "ping": _check_ping}


# --- every real body: literal expectations -----------------------------------------------------

HELLO = "github:Codertocat/Hello-World#1"
CODERTOCAT, BUG, MS1 = ("Codertocat",), ("bug",), "Codertocat/Hello-World/1"
# octokit bodies about Codertocat/Hello-World#1: action -> (state, assignee logins, labels, milestone);
# None = no events (the issue is a pull request). Variants (.with-organization, ...) share their action's row.
ROWS = {
    "issues": {
        "assigned": (OPEN, CODERTOCAT, BUG, MS1), "deleted": (DONE, CODERTOCAT, BUG, MS1),
        "demilestoned": None, "milestoned": None, "edited": (OPEN, CODERTOCAT, BUG, MS1),
        "labeled": (OPEN, CODERTOCAT, BUG, MS1), "locked": (OPEN, CODERTOCAT, BUG, None),
        "opened": (OPEN, CODERTOCAT, BUG, MS1), "pinned": (OPEN, CODERTOCAT, (), None),
        "reopened": (OPEN, CODERTOCAT, BUG, MS1), "unassigned": (OPEN, CODERTOCAT, BUG, MS1),
        "unlabeled": (OPEN, CODERTOCAT, BUG, None), "unlocked": (OPEN, CODERTOCAT, BUG, None),
        "unpinned": (OPEN, CODERTOCAT, (), None),
    },
    "issue_comment": {action: (OPEN, CODERTOCAT, BUG, MS1) for action in ("created", "edited", "deleted")},
}
# file -> (kind, key, state, assignee logins, labels, milestone), where the rule above does not apply
SPECIAL = {
    "issues/octokit-webhooks-net__typed.payload.json": (
        "typed", "github:Particular/SampleWebhooks#1", OPEN, (), (), None),
    "issues/octokit-webhooks-net__untyped.payload.json": (
        "untyped", "github:Particular/SampleWebhooks#1", OPEN, (), (), None),
    "issues/octokit-webhooks__transferred.payload.json": (
        "transferred", "github:octo-org/octo-repo#1", OPEN, (), (), None),
    "issue_comment/octokit-webhooks__created.1.payload.json": ("commented", HELLO, OPEN, (), BUG, None),
}
ISSUE_FILES = [(e, p) for e, p in FILES if e in ROWS]


def expected_row(event: str, name: str):
    if f"{event}/{name}" in SPECIAL:
        return SPECIAL[f"{event}/{name}"]
    action = name.removeprefix("octokit-webhooks__").split(".")[0]
    if action not in ROWS[event]:
        pytest.fail(f"no literal expectation for {event}/{name}: add one to ROWS or SPECIAL")  # never skipped
    row = ROWS[event][action]
    return None if row is None else (github.COMMENT_KINDS.get(action, action) if event == "issue_comment"
                                     else action, HELLO, *row)


@pytest.mark.parametrize(("event", "path"), ISSUE_FILES, ids=[f"{e}/{p.name}" for e, p in ISSUE_FILES])
def test_issue_fixture_outcomes(event, path):
    row = expected_row(event, path.name)
    parsed = parse(event, json.loads(path.read_text()))
    if row is None:
        assert parsed.events == ()
        return
    kind, key, state, logins, labels, milestone = row
    (ev,) = parsed.events
    assert (ev.kind, ev.item.key, ev.item.state) == (kind, key, state)
    assert tuple(p.login for p in ev.item.assignees) == logins
    assert (ev.item.labels, ev.item.milestone) == (labels, milestone)
    assert all(p.name is None for p in ev.item.assignees)


def test_special_rows_name_existing_fixtures():
    assert set(SPECIAL) <= {f"{e}/{p.name}" for e, p in ISSUE_FILES}


def test_issue_comment_outcome():
    ev = only_event(load("issue_comment", "octokit-webhooks__edited.payload.json"), "issue_comment")
    assert (ev.comment.id, ev.comment.author, ev.comment.is_bot) == ("492700400", Person("Codertocat"), False)
    assert ev.comment.body == "You are totally right! I'll get this fixed today."
    assert ev.item.updated_at == datetime(2019, 5, 15, 15, 20, 22, tzinfo=UTC)


@pytest.mark.parametrize(("name", "added", "removed", "account"), [
    ("installation/octokit-webhooks__created.payload.json", ("Codertocat/Hello-World",), (), "Codertocat"),
    ("installation/octokit-webhooks__deleted.payload.json", (), ("octocat/Hello-World",), "octocat"),
    ("installation/octokit-webhooks__suspend.payload.json", (), (), "Codertocat"),
    ("installation_repositories/octokit-webhooks__added.payload.json", ("Codertocat/Space",), (), "Codertocat"),
    ("installation_repositories/octokit-webhooks__removed.payload.json", (), ("octocat/Hello-World",),
     "octocat"),
])
def test_installation_repositories(name, added, removed, account):
    event, file_name = name.split("/")
    (ev,) = parse(event, load(event, file_name)).events
    assert (ev.repositories_added, ev.repositories_removed, ev.account) == (added, removed, account)


def test_milestone_outcome():
    parsed = parse("milestone", load("milestone", "octokit-webhooks__closed.with-installation.payload.json"))
    assert parsed.events == (MilestoneEvent("closed", "Codertocat/Hello-World/1", "v1.0", "closed"),)
    assert parsed.installation_id == 1


@pytest.mark.parametrize("name", ["octokit-webhooks__payload.json", "octokit-webhooks__with-organization.payload.json"])
def test_ping_has_no_events(name):
    parsed = parse("ping", load("ping", name))
    assert (parsed.events, parsed.action, parsed.installation_id) == ((), None, None)


# --- issue states, types, labels, assignees -----------------------------------------------------


def closed_issue(**issue_fields) -> dict:
    payload = issue_body("reopened")
    payload["action"] = "closed"
    payload["issue"].update(state="closed", closed_at="2021-10-11T16:41:00Z", **issue_fields)
    return payload


@pytest.mark.parametrize(("reason", "state"), [
    ("completed", DONE), ("not_planned", DROPPED), ("duplicate", DROPPED), (None, DONE), ("absent", DONE),
])
def test_closed_with_each_state_reason(reason, state):
    payload = closed_issue() if reason == "absent" else closed_issue(state_reason=reason)
    ev = only_event(payload)
    assert (ev.kind, ev.item.state, ev.item.state_reason) == ("closed", state, None if reason == "absent" else reason)


def test_reopened_state_reason_is_open():
    payload = issue_body("reopened")
    payload["issue"]["state_reason"] = "reopened"
    assert (only_event(payload).item.state, only_event(payload).item.state_reason) == (OPEN, "reopened")


def test_state_absent_follows_closed_at():
    payload = issue_body("pinned")
    assert "state" not in payload["issue"] and only_event(payload).item.state == OPEN
    payload["issue"].update(closed_at="2019-05-16T00:00:00Z", state_reason="not_planned")
    assert only_event(payload).item.state == DROPPED


def test_typed_and_untyped_bodies():
    assert only_event(load("issues", "octokit-webhooks-net__typed.payload.json")).item.issue_type == "Feature"
    assert only_event(load("issues", "octokit-webhooks-net__untyped.payload.json")).item.issue_type is None
    assert only_event(issue_body("opened")).item.issue_type is None  # no key


def test_unlabeled_without_label_key():
    payload = issue_body("unlabeled")
    del payload["label"]
    ev = only_event(payload)
    assert (ev.kind, ev.item.labels) == ("unlabeled", ("bug",))


@pytest.mark.parametrize(("labels", "expected"), [
    (None, ()), ("absent", ()), ([], ()), (["bug", {"name": "points: 5"}], ("bug", "points: 5")),
])
def test_labels_absent_null_or_strings(labels, expected):
    payload = issue_body("opened")
    if labels == "absent":
        del payload["issue"]["labels"]
    else:
        payload["issue"]["labels"] = labels
    assert only_event(payload).item.labels == expected


def test_assignees_fall_back_to_assignee():
    payload = issue_body("assigned")
    del payload["issue"]["assignees"]
    assert only_event(payload).item.assignees == (Person("Codertocat"),)
    payload["issue"]["assignees"], payload["issue"]["assignee"] = None, None
    assert only_event(payload).item.assignees == ()


@pytest.mark.parametrize(("labels", "options", "estimate"), [
    (["bug", "points: 3"], OPTIONS, 3.0),
    (["Size:2.5"], OPTIONS, 2.5),
    (["POINTS: 8", "points: 1"], OPTIONS, 8.0),
    (["points: lots", "bug"], OPTIONS, None),
    (["sp-13"], GithubOptions(points_label_pattern=r"^sp-(\d+)$"), 13.0),
])
def test_estimate_from_labels(labels, options, estimate):
    payload = issue_body("labeled")
    payload["issue"]["labels"] = [{"name": name} for name in labels]
    assert only_event(payload, options=options).item.estimate == estimate


def test_points_pattern_needs_a_group():
    with pytest.raises(ValueError, match="capturing group"):
        GithubOptions(points_label_pattern=r"^points$")


def test_repository_missing_uses_repository_url():
    payload = issue_body("opened")
    del payload["repository"]
    ev = only_event(payload)
    assert (ev.item.key, ev.item.container, ev.item.milestone) == (HELLO, "Codertocat/Hello-World", MS1)


def test_unknown_issues_action_still_gives_a_snapshot():
    payload = issue_body("opened")
    payload["action"] = "field_added"
    ev = only_event(payload)
    assert (ev.kind, ev.item.key) == ("field_added", HELLO)


def test_pull_request_in_issues_event_is_ignored():
    parsed = parse("issues", issue_body("milestoned"))
    assert (parsed.events, parsed.action) == ((), "milestoned")


# --- deleted, transferred, edited ---------------------------------------------------------------


def test_deleted():
    ev = only_event(issue_body("deleted"))
    assert (ev.kind, ev.removed_key, ev.item.key, ev.new_key) == ("deleted", HELLO, HELLO, None)


def test_transferred():
    ev = only_event(issue_body("transferred"))
    assert ev.kind == "transferred"
    assert (ev.removed_key, ev.new_key) == ("github:octo-org/octo-repo#1", HELLO)
    assert ev.item.key == ev.removed_key and ev.item.id == "512748900"


def test_transferred_new_repository_from_new_issue_url():
    payload = issue_body("transferred")
    del payload["changes"]["new_repository"]
    assert only_event(payload).new_key == HELLO


def test_opened_after_transfer_names_the_old_key():
    ev = only_event(issue_body("opened.with-transfer"))
    assert ev.changes == ("transferred_from:github:octo-org/octo-repo#1",)


def test_edited_lists_changed_fields():
    payload = issue_body("edited")
    payload["changes"] = {"title": {"from": "old"}, "body": {"from": "old body"}}
    assert only_event(payload).changes == ("body", "title")


# --- issue_comment ------------------------------------------------------------------------------


def test_pull_request_comment_is_ignored():
    payload = load("issue_comment", "octokit-webhooks__created.with-installation.payload.json")
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
    parsed = parse("issue_comment", payload)
    assert (parsed.events, parsed.installation_id) == ((), 1)


def test_bot_comment_is_flagged():
    payload = load("issue_comment", "octokit-webhooks__created.payload.json")
    payload["comment"]["user"].update(login="okrbot[bot]", type="Bot")
    ev = only_event(payload, "issue_comment")
    assert (ev.comment.is_bot, ev.comment.author) == (True, Person("okrbot[bot]"))


def test_unknown_comment_action_gives_no_events():
    payload = load("issue_comment", "octokit-webhooks__created.payload.json")
    payload["action"] = "pinned"
    assert parse("issue_comment", payload).events == ()


# --- sub_issues (hand-made bodies) --------------------------------------------------------------

PARENT_KEY = "github:Particular/SampleWebhooks#1"
SUB_KEY = "github:Particular/SampleDocs#7"


@pytest.mark.parametrize(("action", "kind", "parent_key", "parent_id", "state"), [
    ("sub_issue_added", "linked", PARENT_KEY, "3138083312", OPEN),
    ("parent_issue_added", "linked", PARENT_KEY, "3138083312", OPEN),
    ("sub_issue_removed", "unlinked", None, None, DROPPED),
    ("parent_issue_removed", "unlinked", None, None, DROPPED),
])
def test_sub_issues_four_actions(action, kind, parent_key, parent_id, state):
    parsed = parse("sub_issues", load_handmade(action))
    (ev,) = parsed.events
    assert (parsed.action, parsed.installation_id, ev.kind) == (action, 65432100, kind)
    item = ev.item
    assert (item.key, item.id, item.container, item.state) == (SUB_KEY, "3138090007", "Particular/SampleDocs", state)
    assert (item.parent_key, item.parent_id, item.parent_known) == (parent_key, parent_id, True)
    assert (item.issue_type, item.estimate, item.assignees) == ("Task", 3.0, (Person("DavidBoike"),))
    assert (ev.parent.key, ev.parent.id, ev.parent.parent_known) == (PARENT_KEY, "3138083312", False)
    assert ev.actor == Person("DavidBoike")


def test_one_link_seen_from_both_sides_agrees():
    from_parent = only_event(load_handmade("sub_issue_added"), "sub_issues")
    from_child = only_event(load_handmade("parent_issue_added"), "sub_issues")
    assert from_parent.item == from_child.item and from_parent.parent == from_child.parent


def test_sub_issues_summary_is_never_read():
    payload = load_handmade("sub_issue_added")
    payload["parent_issue"]["sub_issues_summary"] = {"total": 99, "completed": 99, "percent_completed": 100}
    del payload["sub_issue"]["sub_issues_summary"]
    assert only_event(payload, "sub_issues") == only_event(load_handmade("sub_issue_added"), "sub_issues")


@pytest.mark.parametrize("action", ["sub_issue_added", "parent_issue_added"])
def test_sub_issue_repository_without_repository_url(action):
    payload = load_handmade(action)
    del payload["sub_issue"]["repository_url"], payload["parent_issue"]["repository_url"]
    ev = only_event(payload, "sub_issues")
    assert (ev.item.key, ev.parent.key) == (SUB_KEY, PARENT_KEY)


def test_empty_assignees_list_is_trusted_over_assignee():
    payload = issue_body("assigned")
    payload["issue"]["assignees"] = []
    assert only_event(payload).item.assignees == ()


@pytest.mark.parametrize("action", ["sub_issue_added", "parent_issue_added"])
def test_each_linked_issue_keeps_its_own_repository(action):
    payload = load_handmade(action)
    payload["repository"] = {"full_name": "Particular/Elsewhere"}
    ev = only_event(payload, "sub_issues")
    assert (ev.item.key, ev.parent.key) == (SUB_KEY, PARENT_KEY)


# --- is_used ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("event", "action", "used"), [
    ("issues", "opened", True), ("issues", "typed", True), ("issues", "some_future_action", True),
    ("sub_issues", "sub_issue_added", True), ("sub_issues", "sub_issue_removed", True),
    ("sub_issues", "parent_issue_added", True), ("sub_issues", "parent_issue_removed", True),
    ("sub_issues", "something_else", False), ("issue_comment", "created", True),
    ("issue_comment", "edited", True), ("issue_comment", "deleted", True), ("milestone", "closed", True),
    ("installation", "created", True), ("installation_repositories", "added", True), ("ping", None, True),
    ("label", "created", False), ("repository", "renamed", False), ("issue_dependencies", "blocked_by_added", False),
    ("push", None, False), ("pull_request", "opened", False), ("star", "created", False),
    ("no_such_event", "x", False),
])
def test_is_used(event, action, used):
    assert is_used(event, action) is used


def test_used_and_ignored_lists_are_disjoint():
    assert not set(github.USED_EVENTS) & github.IGNORED_EVENTS
    assert {"label", "repository", "issue_dependencies", "push", "pull_request"} <= github.IGNORED_EVENTS


@pytest.mark.parametrize(("event", "folder"), [("label", "label"), ("repository", "repository"),
                                               ("issue_dependencies", "issue_dependencies")])
def test_ignored_events_parse_to_nothing(event, folder):
    for path in sorted((SHARED / folder).glob("*.json")):
        assert parse(event, json.loads(path.read_text())).events == ()


# --- PayloadError -------------------------------------------------------------------------------


def _without(name: str, *path: str) -> dict:
    payload = copy.deepcopy(load("issues", name))
    target = payload
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return payload


@pytest.mark.parametrize(("event", "payload", "message"), [
    ("issues", _without("octokit-webhooks__opened.payload.json", "issue"), "missing `issue`"),
    ("issues", _without("octokit-webhooks__opened.payload.json", "issue", "number"), "without `number`"),
    ("issues", _without("octokit-webhooks__opened.payload.json", "issue", "id"), "without `id`"),
    ("issues", _without("octokit-webhooks__opened.payload.json", "issue", "updated_at"), "updated_at"),
    ("issues", _without("octokit-webhooks__opened.payload.json", "action"), "without `action`"),
    ("issues", _without("octokit-webhooks__transferred.payload.json", "changes"), "missing `changes`"),
    ("issues", {"action": "opened", "issue": {"number": 1, "id": 2, "updated_at": "2020-01-01T00:00:00Z"}},
     "repository"),
    ("sub_issues", {"action": "sub_issue_added", "sub_issue": {}}, "missing `parent_issue`"),
    ("issue_comment", {"action": "created", "issue": {}, "repository": {"full_name": "o/r"}}, "without `number`"),
    ("installation", {"action": "created"}, "missing `installation`"),
    ("milestone", {"action": "created", "milestone": {"number": 1}}, "milestone repository"),
    ("issues", [], "not a JSON object"),
])
def test_payload_errors_name_what_is_missing(event, payload, message):
    with pytest.raises(PayloadError, match=message):
        parse(event, payload)


def test_bad_updated_at_is_a_payload_error():
    payload = issue_body("opened")
    payload["issue"]["updated_at"] = "yesterday"
    with pytest.raises(PayloadError, match="not an ISO-8601 time"):
        parse("issues", payload)
