"""What a check-in needs from a comment event, read from the real GitHub and Jira bodies."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from core.events import Person
from integration.config import Settings
from webhooks import github, jira

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("OKRBOT_SHARED", HERE.parents[2] / "shared")) / "fixtures"
PST = timezone(timedelta(hours=-8))
PDT = timezone(timedelta(hours=-7))


def _github(action: str):
    body = json.loads((SHARED / "github/issue_comment" / f"octokit-webhooks__{action}.payload.json").read_text())
    return github.parse("issue_comment", body, Settings().github_options).events


def _jira(path: str):
    body = json.loads((SHARED / "jira" / path.replace("/", "/mattermost-plugin-jira__", 1)).read_text())
    return jira.parse(body, Settings().jira_options).events


def test_github_comment_created_edited_deleted():
    for action, kind in (("created", "commented"), ("edited", "comment_edited"), ("deleted", "comment_deleted")):
        (event,) = _github(action)
        c = event.comment
        assert (event.kind, event.item.key, c.id) == (kind, "github:Codertocat/Hello-World#1", "492700400")
        assert (c.author, c.author_login, c.author_account_id, c.is_bot) == (Person("Codertocat"), "Codertocat",
                                                                            None, False)
        assert c.created_at == datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)
        assert c.url == "https://github.com/Codertocat/Hello-World/issues/1#issuecomment-492700400"
    assert _github("edited")[0].comment.updated_at == datetime(2019, 5, 15, 15, 20, 22, tzinfo=UTC)
    assert _github("created")[0].comment.updated_at == datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)


def test_jira_cloud_comment_events():
    (created,) = _jira("comment_created/webhook-cloud-comment-created.json")
    c = created.comment
    assert (created.kind, c.id) == ("commented", "10019")
    assert created.changes == ("issue:jira:some-instance-test.atlassian.net/TES-41",)
    assert (c.author, c.author_account_id, c.author_login) == (Person("5c5f880629be9642ba529340", "Test User"),
                                                               "5c5f880629be9642ba529340", None)
    assert c.created_at == c.updated_at == datetime(2019, 2, 15, 19, 11, 18, 321000, tzinfo=PST)
    assert c.url == "https://some-instance-test.atlassian.net/browse/TES-41?focusedCommentId=10019"
    (updated,) = _jira("comment_updated/webhook-cloud-comment-updated.json")
    assert (updated.kind, updated.comment.updated_at) == ("comment_edited",
                                                          datetime(2019, 2, 15, 19, 12, 8, 432000, tzinfo=PST))
    (deleted,) = _jira("comment_deleted/webhook-cloud-comment-deleted.json")
    assert (deleted.kind, deleted.comment.id, deleted.comment.created_at) == (
        "comment_deleted", "10757", datetime(2019, 10, 7, 22, 42, 1, 801000, tzinfo=PDT))


def test_jira_server_comment_events_name_the_issue_by_id_and_the_author_by_name():
    (created,) = _jira("comment_created/webhook-server-comment-created.json")
    c = created.comment
    assert created.changes == ("issue_id:sales-jira.centralus.cloudapp.azure.com:8080/10013",)
    assert (c.id, c.author, c.author_login, c.author_account_id) == ("10082", Person("levbrouk", "Lev Brouk"),
                                                                     "levbrouk", None)
    assert c.url is None  # the body names no issue key; the apply path links it through the anchor
    assert c.updated_at == datetime(2019, 6, 4, 0, 15, 17, 234000, tzinfo=UTC)


def test_jira_server_issue_updated_comment_events_with_and_without_the_event_type():
    (commented,) = _jira("issue_updated/webhook-server-issue-updated-commented-1.json")
    assert (commented.kind, commented.comment.id, commented.item.key) == (
        "commented", "10082", "jira:sales-jira.centralus.cloudapp.azure.com:8080/PRJX-14")
    assert commented.comment.url == ("http://sales-jira.centralus.cloudapp.azure.com:8080/browse/PRJX-14"
                                     "?focusedCommentId=10082")
    (edited,) = _jira("issue_updated/webhook-server-issue-updated-comment-edited.json")
    assert edited.kind == "comment_edited"
    # no issue_event_type_name: inferred from the comment's own created / updated times
    (old_new,) = _jira("issue_updated/webhook-server-old-issue-updated-no-event-type-commented.json")
    (old_edit,) = _jira("issue_updated/webhook-server-old-issue-updated-no-event-type-comment-edited.json")
    assert (old_new.kind, old_edit.kind) == ("commented", "comment_edited")
    assert old_edit.comment.updated_at == datetime(2019, 6, 4, 0, 53, 33, 665000, tzinfo=UTC)
    assert old_edit.comment.created_at == datetime(2019, 6, 4, 0, 50, 4, 873000, tzinfo=UTC)
    # Server's issue_comment_deleted carries no comment: nothing names the check-in to withdraw
    (gone,) = _jira("issue_updated/webhook-server-issue-updated-comment-deleted.json")
    assert (gone.kind, gone.comment) == ("comment_deleted", None)
