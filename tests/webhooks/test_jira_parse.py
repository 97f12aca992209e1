"""webhooks.jira.parse against every real Jira Cloud / Server body, and targeted edits of them."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.events import DONE, DROPPED, OPEN, STATES, Event, Person
from integration.config import Settings
from webhooks import jira
from webhooks.errors import PayloadError
from webhooks.jira import JiraOptions, is_used

OPTIONS = Settings().jira_options  # the defaults, from the one place they live
HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("OKRBOT_SHARED", HERE.parents[2] / "shared")) / "fixtures" / "jira"
PREFIX = "mattermost-plugin-jira__"
FILES = sorted(SHARED.glob("*/*.json"))
KINDS = {"created", "updated", "deleted", "commented", "comment_edited", "comment_deleted"}


def load(name: str) -> dict:
    """`issue_updated/webhook-issue-updated-labels` -> the body (a fresh copy)."""
    folder, short = name.split("/")
    return json.loads((SHARED / folder / f"{PREFIX}{short}.json").read_text())


def parse(payload: dict, options: JiraOptions = OPTIONS) -> jira.Parsed:
    return jira.parse(payload, options)


def only_event(payload: dict, options: JiraOptions = OPTIONS) -> Event:
    parsed = parse(payload, options)
    assert len(parsed.events) == 1
    return parsed.events[0]


def test_the_fixture_folder_is_there():
    assert len(FILES) >= 50


# --- every real body: facts derived from the body itself ---------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name.removeprefix(PREFIX)}")
def test_every_fixture_parses_to_what_its_body_says(path):
    payload = json.loads(path.read_text())
    before = copy.deepcopy(payload)
    parsed = parse(payload)
    assert payload == before  # pure: the body is not touched
    assert (parsed.tracker, parsed.event, parsed.action) == (
        "jira", payload["webhookEvent"], payload.get("issue_event_type_name"))
    (ev,) = parsed.events
    assert ev.tracker == "jira" and ev.kind in KINDS
    if payload["webhookEvent"].startswith("jira:issue_"):
        _check_issue_snapshot(payload, ev)
    if "comment" in payload:
        assert ev.comment.id == payload["comment"]["id"] and ev.comment.body == payload["comment"]["body"]


def _check_issue_snapshot(payload, ev):
    issue, fields = payload["issue"], payload["issue"]["fields"]
    netloc = urlsplit(issue["self"]).netloc
    item = ev.item
    assert item.key == f"jira:{netloc}/{issue['key']}" and item.id == issue["id"]
    assert item.container == f"{netloc}/{fields['project']['key']}"
    assert item.url == f"{urlsplit(issue['self']).scheme}://{netloc}/browse/{issue['key']}"
    assert item.state in STATES and item.title == fields["summary"]
    assert item.issue_type == fields["issuetype"]["name"]
    assert item.labels == tuple(fields.get("labels") or ())
    assert item.updated_at.utcoffset().total_seconds() == 0
    assert len(item.assignees) == (1 if fields.get("assignee") else 0)


# --- every real body: literal expectations -----------------------------------------------------

C, MM, TI = "some-instance-test.atlassian.net", "mmtest.atlassian.net", "test-instance.atlassian.net"
SALES, SRV = "sales-jira.centralus.cloudapp.azure.com:8080", "some-instance-test.centralus.cloudapp.azure.com:8080"
TS, L80, L82 = "test-server.azure.com:8080", "localhost:8080", "localhost:8082"
ADMIN, SAMPLE = "5c5f880629be9642ba529340", "5cedcb4355a88a0fc86388ba"  # Cloud accountIds
TES41 = f"jira:{C}/TES-41"
PRJX14 = f"jira:{SALES}/PRJX-14"
CREATED_FIELDS = ("description", "priority", "reporter", "status", "summary")
# file -> (kind, item key or None, state, assignee login, actor login, Event.changes)
EXPECTED = {
    "comment_created/webhook-cloud-comment-created-mention-user": (
        "commented", None, None, None, ADMIN, (f"issue:{TES41}",)),
    "comment_created/webhook-cloud-comment-created": ("commented", None, None, None, ADMIN, (f"issue:{TES41}",)),
    "comment_created/webhook-server-comment-created": (
        "commented", None, None, None, "levbrouk", (f"issue_id:{SALES}/10013",)),
    "comment_deleted/webhook-cloud-comment-deleted": (
        "comment_deleted", None, None, None, None, (f"issue:jira:{MM}/KT-7",)),
    "comment_deleted/webhook-server-comment-deleted": (
        "comment_deleted", None, None, None, "levbrouk", (f"issue_id:{SALES}/10013",)),
    "comment_updated/webhook-cloud-comment-updated": (
        "comment_edited", None, None, None, ADMIN, (f"issue:{TES41}",)),
    "comment_updated/webhook-server-comment-updated": (
        "comment_edited", None, None, None, "levbrouk", (f"issue_id:{SALES}/10013",)),
    "issue_created/webhook-cloud-issue-created-many-fields": (
        "created", f"jira:{MM}/KT-22", OPEN, SAMPLE, SAMPLE,
        ("assignee", "customfield_10073", "customfield_10076", "description", "fixVersions", "priority",
         "reporter", "status", "summary")),
    "issue_created/webhook-issue-created-no-description-nor-relevant-fields": (
        "created", TES41, OPEN, None, ADMIN, CREATED_FIELDS),
    "issue_created/webhook-issue-created-no-description": ("created", TES41, OPEN, None, ADMIN, CREATED_FIELDS),
    "issue_created/webhook-issue-created-no-relevant-fields": ("created", TES41, OPEN, None, ADMIN, CREATED_FIELDS),
    "issue_created/webhook-issue-created-with-security-level": (
        "created", TES41, OPEN, None, ADMIN, CREATED_FIELDS),
    "issue_created/webhook-issue-created": ("created", TES41, OPEN, None, ADMIN, CREATED_FIELDS),
    "issue_deleted/webhook-issue-deleted": ("deleted", f"jira:{C}/IDT-19", OPEN, None, ADMIN, ()),
    "issue_updated/webhook-cloud-issue-updated-custom-field": (
        "updated", f"jira:{MM}/TES-14", OPEN, SAMPLE, SAMPLE, ("customfield_10072",)),
    "issue_updated/webhook-issue-assigned-empty-changelog": (
        "updated", f"jira:{TI}/TEST-123", OPEN, "789012", "123456", ()),
    "issue_updated/webhook-issue-comment-created-indentation": (
        "commented", f"jira:{L82}/TEST-4", OPEN, None, "test", ()),
    "issue_updated/webhook-issue-updated-assigned-nobody": ("updated", TES41, OPEN, None, ADMIN, ("assignee",)),
    "issue_updated/webhook-issue-updated-assigned-on-server": (
        "updated", f"jira:{SRV}/PRJA-37", OPEN, "admin", "admin", ("assignee",)),
    "issue_updated/webhook-issue-updated-assigned": ("updated", TES41, OPEN, ADMIN, ADMIN, ("assignee",)),
    "issue_updated/webhook-issue-updated-attachments": ("updated", TES41, OPEN, None, ADMIN, ("Attachment",)),
    "issue_updated/webhook-issue-updated-components": (
        "updated", f"jira:{C}/TES-10", OPEN, None, SAMPLE, ("components",)),
    "issue_updated/webhook-issue-updated-edited": ("updated", TES41, OPEN, None, ADMIN, ("description",)),
    "issue_updated/webhook-issue-updated-fix-version": ("updated", TES41, OPEN, None, ADMIN, ("fixVersions",)),
    "issue_updated/webhook-issue-updated-issue-type": ("updated", TES41, OPEN, None, ADMIN, ("issuetype",)),
    "issue_updated/webhook-issue-updated-labels": ("updated", TES41, OPEN, None, ADMIN, ("labels",)),
    "issue_updated/webhook-issue-updated-lowered-priority": ("updated", TES41, OPEN, None, ADMIN, ("priority",)),
    "issue_updated/webhook-issue-updated-multiple-custom-fields": (
        "updated", TES41, OPEN, None, ADMIN, ("customfield_10001", "customfield_10002")),
    "issue_updated/webhook-issue-updated-multiple-values": (
        "updated", TES41, OPEN, None, ADMIN, ("fixVersions", "assignee", "customfield_10072")),
    "issue_updated/webhook-issue-updated-raised-priority": ("updated", TES41, OPEN, None, ADMIN, ("priority",)),
    "issue_updated/webhook-issue-updated-rank": ("updated", TES41, OPEN, None, ADMIN, ("Rank",)),
    "issue_updated/webhook-issue-updated-renamed": ("updated", TES41, OPEN, None, ADMIN, ("summary",)),
    "issue_updated/webhook-issue-updated-reopened-one-changelog": (
        "updated", TES41, OPEN, None, ADMIN, ("resolution",)),
    "issue_updated/webhook-issue-updated-reopened": ("updated", TES41, OPEN, None, ADMIN, ("resolution", "status")),
    "issue_updated/webhook-issue-updated-resolved-one-changelog": (
        "updated", TES41, DONE, None, ADMIN, ("resolution",)),
    "issue_updated/webhook-issue-updated-resolved": ("updated", TES41, DONE, None, ADMIN, ("resolution", "status")),
    "issue_updated/webhook-issue-updated-sprint": ("updated", TES41, OPEN, None, ADMIN, ("Sprint",)),
    "issue_updated/webhook-issue-updated-started-working": ("updated", TES41, OPEN, None, ADMIN, ("status",)),
    "issue_updated/webhook-server-issue-updated-closed": (
        "updated", f"jira:{SRV}/TES-4", DONE, "admin", "admin", ("status",)),
    "issue_updated/webhook-server-issue-updated-comment-deleted": (
        "comment_deleted", PRJX14, OPEN, "levbrouk", "levbrouk", ()),
    "issue_updated/webhook-server-issue-updated-comment-edited": (
        "comment_edited", PRJX14, OPEN, "levbrouk", "levbrouk", ()),
    "issue_updated/webhook-server-issue-updated-commented-1": ("commented", PRJX14, OPEN, "levbrouk", "levbrouk", ()),
    "issue_updated/webhook-server-issue-updated-commented-2": (
        "commented", f"jira:{TS}/PRJA-42", OPEN, "dylan", "TestUser", ()),
    "issue_updated/webhook-server-issue-updated-commented-3": (
        "commented", f"jira:{TS}/PRJA-42", OPEN, "dylan", "TestUser", ()),
    "issue_updated/webhook-server-issue-updated-commented-mention-user": (
        "commented", PRJX14, OPEN, "levbrouk", "levbrouk", ()),
    "issue_updated/webhook-server-issue-updated-in-progress": (
        "updated", f"jira:{SRV}/TES-4", OPEN, "admin", "admin", ("status",)),
    "issue_updated/webhook-server-issue-updated-many-fields": (
        "updated", f"jira:{L80}/HEY-15", OPEN, "mickmister", "mickmister", ("labels",)),
    "issue_updated/webhook-server-issue-updated-reopened": (
        "updated", f"jira:{SRV}/TES-4", OPEN, "admin", "admin", ("resolution", "status")),
    "issue_updated/webhook-server-issue-updated-resolved": (
        "updated", f"jira:{SRV}/TES-4", DONE, None, "admin", ("status", "resolution")),
    "issue_updated/webhook-server-old-issue-updated-no-event-type-assigned": (
        "updated", TES41, OPEN, ADMIN, ADMIN, ("assignee",)),
    "issue_updated/webhook-server-old-issue-updated-no-event-type-comment-deleted": (
        "updated", PRJX14, OPEN, "levbrouk", "levbrouk", ()),
    "issue_updated/webhook-server-old-issue-updated-no-event-type-comment-edited": (
        "comment_edited", PRJX14, OPEN, "levbrouk", "levbrouk", ()),
    "issue_updated/webhook-server-old-issue-updated-no-event-type-commented": (
        "commented", PRJX14, OPEN, "levbrouk", "levbrouk", ()),
    "issue_updated/webhook-server-old-issue-updated-no-event-type-edited": (
        "updated", TES41, OPEN, None, ADMIN, ("description",)),
    "issue_updated/webhook-server-updated-custom-field": ("updated", f"jira:{L80}/TES-8", OPEN, None, "test",
                                                          ("numfield",)),
}


@pytest.mark.parametrize(("name", "row"), EXPECTED.items(), ids=list(EXPECTED))
def test_fixture_outcomes(name, row):
    kind, key, state, assignee, actor, changes = row
    ev = only_event(load(name))
    assert ev.kind == kind
    assert (ev.item.key if ev.item else None, ev.item.state if ev.item else None) == (key, state)
    assert (ev.item.assignees[0].login if ev.item and ev.item.assignees else None) == assignee
    assert (ev.actor.login if ev.actor else None, ev.changes) == (actor, changes)
    assert ev.removed_key == (key if kind == "deleted" else None)


def test_table_names_only_existing_fixtures():
    assert {f"{p.parent.name}/{p.stem.removeprefix(PREFIX)}" for p in FILES} >= set(EXPECTED)


# --- users: Cloud vs Server ---------------------------------------------------------------------


def test_cloud_user_is_the_account_id():
    ev = only_event(load("issue_updated/webhook-cloud-issue-updated-custom-field"))
    assert ev.item.assignees == (Person(SAMPLE, "Sample User"),)  # the body also has name "test": not used
    assert ev.actor == Person(SAMPLE, "Sample User")


def test_server_user_is_the_name_else_the_key():
    payload = load("issue_updated/webhook-server-issue-updated-commented-2")
    assert only_event(payload).actor == Person("TestUser", "Test User")
    del payload["user"]["name"]
    assert only_event(payload).actor == Person("testUser", "Test User")  # key
    assert only_event(payload).item.assignees == (Person("dylan", "Dylan H"),)


def test_app_comment_author_is_a_bot():
    payload = load("comment_created/webhook-cloud-comment-created")
    assert only_event(payload).comment.is_bot is False
    payload["comment"]["author"]["accountType"] = "app"
    ev = only_event(payload)
    assert (ev.comment.is_bot, ev.comment.author.login) == (True, ADMIN)


def test_cloud_comment_event_actor_comes_from_the_comment():
    updated = only_event(load("comment_updated/webhook-cloud-comment-updated"))
    assert (updated.actor, updated.comment.body) == (Person(ADMIN, "Test User"), "Added a comment, then edited it")


# --- done vs dropped ----------------------------------------------------------------------------


def resolved(resolution: str | None, category: str = "done") -> dict:
    payload = load("issue_updated/webhook-issue-updated-resolved")
    fields = payload["issue"]["fields"]
    fields["resolution"] = None if resolution is None else {"name": resolution, "id": "10001"}
    fields["status"]["statusCategory"]["key"] = category
    return payload


@pytest.mark.parametrize(("resolution", "state"), [
    ("Done", DONE), (None, DONE), ("Won't Do", DROPPED), ("Won’t Do", DROPPED), ("won't fix", DROPPED),
    ("Duplicate", DROPPED), ("Cannot Reproduce", DROPPED), ("DECLINED", DROPPED), ("Fixed", DONE),
])
def test_done_or_dropped_by_resolution(resolution, state):
    item = only_event(resolved(resolution)).item
    assert (item.state, item.state_reason) == (state, resolution)


@pytest.mark.parametrize("category", ["new", "indeterminate"])
def test_status_not_done_with_a_resolution_is_open(category):
    item = only_event(resolved("Won't Do", category)).item
    assert (item.state, item.state_reason) == (OPEN, "Won't Do")


def test_status_names_are_never_read():
    payload = resolved("Done", "indeterminate")
    payload["issue"]["fields"]["status"]["name"] = "Done"
    assert only_event(payload).item.state == OPEN


def test_custom_dropped_resolutions():
    options = replace(OPTIONS, dropped_resolutions=("Obsolete",))
    assert only_event(resolved("obsolete"), options).item.state == DROPPED
    assert only_event(resolved("Won't Do"), options).item.state == DONE


# --- parent, epic link, story points -------------------------------------------------------------


def test_epic_link_field_only_when_configured():
    payload = load("issue_created/webhook-cloud-issue-created-many-fields")
    assert only_event(payload).item.parent_key is None
    item = only_event(payload, replace(OPTIONS, epic_link_field="customfield_10014")).item
    assert (item.parent_key, item.parent_id) == (f"jira:{MM}/KT-17", None)
    assert only_event(payload, replace(OPTIONS, epic_link_field="customfield_10015")).item.parent_key is None


def test_parent_field_wins_over_epic_link():
    payload = load("issue_updated/webhook-issue-updated-components")
    payload["issue"]["fields"]["parent"] = {"id": "10350", "key": "TES-30", "fields": {"summary": "Epic"}}
    item = only_event(payload, replace(OPTIONS, epic_link_field="customfield_10014")).item
    assert (item.parent_key, item.parent_id) == (f"jira:{C}/TES-30", "10350")


@pytest.mark.parametrize(("fields", "estimate"), [
    (("customfield_10106",), 3.0),
    (("customfield_10105", "customfield_10106"), 3.0),  # 10105 holds a rank string: skipped
    (("customfield_99999",), None),
    ((), None),
])
def test_story_points(fields, estimate):
    payload = load("issue_updated/webhook-server-issue-updated-commented-1")
    assert only_event(payload, replace(OPTIONS, story_points_fields=fields)).item.estimate == estimate


def test_story_points_ignore_booleans_and_take_ints():
    payload = load("issue_updated/webhook-server-updated-custom-field")
    payload["issue"]["fields"]["customfield_10001"] = True
    options = replace(OPTIONS, story_points_fields=("customfield_10001", "customfield_10000"))
    assert only_event(payload, options).item.estimate == 44545556.0


# --- comments: Server as issue_updated, old bodies, Cloud stubs ----------------------------------


def test_server_comment_delivered_as_issue_updated():
    ev = only_event(load("issue_updated/webhook-server-issue-updated-commented-1"))
    assert (ev.kind, ev.item.key, ev.comment.id, ev.comment.body) == ("commented", PRJX14, "10082", "unik")
    assert ev.comment.author == Person("levbrouk", "Lev Brouk")


def test_old_server_body_without_event_type_is_inferred():
    kinds = {name: only_event(load(f"issue_updated/webhook-server-old-issue-updated-no-event-type-{name}")).kind
             for name in ("commented", "comment-edited", "comment-deleted", "edited", "assigned")}
    assert kinds == {"commented": "commented", "comment-edited": "comment_edited", "comment-deleted": "updated",
                     "edited": "updated", "assigned": "updated"}


def test_comment_with_a_changelog_is_an_update_carrying_the_comment():
    payload = load("issue_updated/webhook-server-old-issue-updated-no-event-type-commented")
    payload["changelog"] = {"id": "1", "items": [{"field": "status", "fromString": "Open", "toString": "Done"}]}
    ev = only_event(payload)
    assert (ev.kind, ev.changes, ev.comment.id) == ("updated", ("status",), "10082")


def test_cloud_comment_stub_gives_no_snapshot():
    ev = only_event(load("comment_deleted/webhook-cloud-comment-deleted"))
    assert (ev.item, ev.changes, ev.actor) == (None, (f"issue:jira:{MM}/KT-7",), None)


def test_comment_event_with_a_full_issue_gives_a_snapshot():
    payload = load("comment_created/webhook-cloud-comment-created")
    payload["issue"] = load("issue_created/webhook-issue-created")["issue"]
    ev = only_event(payload)
    assert (ev.item.key, ev.item.labels, ev.changes) == (TES41, ("test-label",), ())


def test_atlassian_document_format_body_is_flattened():
    payload = load("comment_created/webhook-cloud-comment-created")
    payload["comment"]["body"] = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Ship "}, {"type": "text", "text": "it"}]}]}
    assert only_event(payload).comment.body == "Ship it"


# --- site host, URL, times ----------------------------------------------------------------------


@pytest.mark.parametrize(("self_url", "key", "url"), [
    ("https://foo.atlassian.net/rest/api/2/issue/10001", "jira:foo.atlassian.net/TES-41",
     "https://foo.atlassian.net/browse/TES-41"),
    ("https://Jira.Example.com:443/rest/api/2/issue/10001", "jira:jira.example.com/TES-41",
     "https://Jira.Example.com:443/browse/TES-41"),
    ("http://jira.example.com:8080/jira/rest/api/2/issue/10001", "jira:jira.example.com:8080/TES-41",
     "http://jira.example.com:8080/jira/browse/TES-41"),
    ("https://mmtest.atlassian.net/rest/api/2/10357", "jira:mmtest.atlassian.net/TES-41",
     "https://mmtest.atlassian.net/browse/TES-41"),
])
def test_site_host_and_browse_url(self_url, key, url):
    payload = load("issue_created/webhook-issue-created")
    payload["issue"]["self"] = self_url
    item = only_event(payload).item
    assert (item.key, item.url, item.container) == (key, url, key.removeprefix("jira:").replace("TES-41", "TES"))


def test_project_from_the_issue_key_when_fields_lack_it():
    payload = load("issue_created/webhook-issue-created")
    del payload["issue"]["fields"]["project"]
    assert only_event(payload).item.container == f"{C}/TES"


@pytest.mark.parametrize(("updated", "expected"), [
    ("2019-08-12T20:58:02.823+0000", datetime(2019, 8, 12, 20, 58, 2, 823000, tzinfo=UTC)),
    ("2019-08-12T20:58:02+0000", datetime(2019, 8, 12, 20, 58, 2, tzinfo=UTC)),
    ("2019-02-15T19:10:01.805-0800", datetime(2019, 2, 16, 3, 10, 1, 805000, tzinfo=UTC)),
    ("2019-08-14T11:07:58.354+08:00", datetime(2019, 8, 14, 3, 7, 58, 354000, tzinfo=UTC)),
    ("2019-08-12T20:58:02Z", datetime(2019, 8, 12, 20, 58, 2, tzinfo=UTC)),
])
def test_updated_formats(updated, expected):
    payload = load("issue_updated/webhook-issue-updated-labels")
    payload["issue"]["fields"]["updated"] = updated
    assert only_event(payload).item.updated_at == expected


def test_updated_falls_back_to_the_delivery_timestamp():
    item = only_event(load("issue_updated/webhook-issue-assigned-empty-changelog")).item
    assert item.updated_at == datetime.fromtimestamp(1724179662.935, UTC)


# --- is_used and unused events -------------------------------------------------------------------


@pytest.mark.parametrize(("event", "used"), [
    ("jira:issue_created", True), ("jira:issue_updated", True), ("jira:issue_deleted", True),
    ("comment_created", True), ("comment_updated", True), ("comment_deleted", True),
    ("worklog_created", False), ("sprint_started", False), ("board_updated", False), ("project_created", False),
    ("jira:version_released", False), ("user_created", False), ("issuelink_created", False),
    ("option_voting_changed", False), ("no_such_event", False),
])
def test_is_used(event, used):
    assert is_used(event) is used


def test_used_and_ignored_lists_are_disjoint():
    assert jira.USED_EVENTS.isdisjoint(jira.IGNORED_EVENTS)


def test_unused_event_gives_no_events():
    parsed = parse({"webhookEvent": "sprint_started", "timestamp": 1, "sprint": {"id": 1}})
    assert (parsed.event, parsed.events) == ("sprint_started", ())


# --- PayloadError -------------------------------------------------------------------------------


def edited(name: str, edit) -> dict:
    payload = load(name)
    edit(payload)
    return payload


@pytest.mark.parametrize(("payload", "message"), [
    ({"timestamp": 1}, "without `webhookEvent`"),
    ("not json", "not a JSON object"),
    ({"webhookEvent": "jira:issue_updated"}, "without `issue`"),
    (edited("issue_created/webhook-issue-created", lambda p: p["issue"].pop("key")), "without `key`"),
    (edited("issue_created/webhook-issue-created", lambda p: p["issue"].pop("self")), "issue.self"),
    (edited("issue_created/webhook-issue-created", lambda p: p["issue"].pop("id")), "without `id`"),
    (edited("comment_created/webhook-cloud-comment-created", lambda p: p.pop("comment")), "without `comment`"),
    (edited("issue_updated/webhook-issue-updated-labels",
            lambda p: p["issue"]["fields"].update(updated="last tuesday")), "not a time"),
    (edited("issue_updated/webhook-issue-assigned-empty-changelog", lambda p: p.pop("timestamp")),
     "nor a delivery `timestamp`"),
])
def test_payload_errors_name_what_is_missing(payload, message):
    with pytest.raises(PayloadError, match=message):
        parse(payload)


def test_issue_without_status_gives_no_snapshot():
    payload = load("issue_updated/webhook-issue-updated-labels")
    del payload["issue"]["fields"]["status"]
    ev = only_event(payload)
    assert (ev.item, ev.changes) == (None, ("labels", f"issue:{TES41}"))
