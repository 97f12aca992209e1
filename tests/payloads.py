"""Hand-made webhook bodies for scenarios, each an edited copy of a real fixture (named as such).

GitHub bodies start from octokit's `issues.opened` (and the hand-made `sub_issues` body built from the
real `typed` one); Jira bodies from mattermost's Cloud and Server `issue_updated` bodies. Only the
fields a scenario is about are changed.
"""

from __future__ import annotations

import copy
from functools import cache

from tests.conftest import load_fixture

REPO = "Codertocat/Hello-World"


@cache
def _base(name: str) -> dict:
    return load_fixture(name)


def github_issue(number: int, *, title: str | None = None, state: str = "open", state_reason: str | None = None,
                 labels: tuple[str, ...] = (), assignees: tuple[str, ...] = (), updated_at: str,
                 repo: str = REPO, issue_type: str | None = None, milestone: int | None = None) -> dict:
    issue = copy.deepcopy(_base("github/issues/octokit-webhooks__opened.payload.json")["issue"])
    people = [{"login": login, "id": 100 + i, "type": "User"} for i, login in enumerate(assignees)]
    issue.update({
        "id": 900000 + number, "number": number, "title": title or f"Issue {number}", "state": state,
        "state_reason": state_reason, "updated_at": updated_at,
        "closed_at": updated_at if state == "closed" else None,
        "labels": [{"id": i, "name": name, "color": "ededed", "default": False} for i, name in enumerate(labels)],
        "assignees": people, "assignee": people[0] if people else None,
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "repository_url": f"https://api.github.com/repos/{repo}",
        "type": {"id": 1, "name": issue_type} if issue_type else None,
        "milestone": {"number": milestone, "title": f"M{milestone}", "state": "open"} if milestone else None,
    })
    return issue


def github_issues_event(action: str, issue: dict, sender: str = "alice", repo: str = REPO) -> dict:
    body = copy.deepcopy(_base("github/issues/octokit-webhooks__opened.payload.json"))
    body["action"], body["issue"] = action, issue
    body["repository"]["full_name"] = repo
    body["repository"]["name"] = repo.split("/")[1]
    body["sender"] = {"login": sender, "id": 1, "type": "User"}
    return body


def github_sub_issue_event(action: str, parent: dict, child: dict, sender: str = "alice") -> dict:
    body = copy.deepcopy(_base("sub_issues__sub_issue_added.handmade.json"))
    body.update({"action": action, "parent_issue": parent, "sub_issue": child, "parent_issue_id": parent["id"],
                 "sub_issue_id": child["id"], "sender": {"login": sender, "id": 1, "type": "User"}})
    body["repository"]["full_name"] = REPO
    return body


JIRA_CLOUD = "jira/issue_updated/mattermost-plugin-jira__webhook-issue-updated-resolved.json"
JIRA_SERVER = "jira/issue_updated/mattermost-plugin-jira__webhook-server-issue-updated-resolved.json"
DONE = {"key": "done", "id": 3, "name": "Done"}
IN_PROGRESS = {"key": "indeterminate", "id": 4, "name": "In Progress"}
TO_DO = {"key": "new", "id": 2, "name": "To Do"}


def jira_issue_event(key: str, *, flavour: str = "cloud", summary: str | None = None, category: dict = TO_DO,
                     resolution: str | None = None, assignee: str | None = None, parent: str | None = None,
                     labels: tuple[str, ...] = (), issue_type: str = "Story", updated: str,
                     event: str = "jira:issue_updated", epic_link: tuple[str, str] | None = None) -> dict:
    body = copy.deepcopy(_base(JIRA_CLOUD if flavour == "cloud" else JIRA_SERVER))
    issue, fields = body["issue"], body["issue"]["fields"]
    base = issue["self"].split("/rest/")[0]
    number = int(key.split("-")[1])
    issue.update({"key": key, "id": str(20000 + number), "self": f"{base}/rest/api/2/issue/{20000 + number}"})
    fields.update({
        "summary": summary or f"{key} summary", "labels": list(labels), "updated": updated,
        "status": {"name": category["name"], "statusCategory": category},
        "resolution": {"name": resolution} if resolution else None,
        "issuetype": {"name": issue_type, "subtask": False},
        "project": {**fields["project"], "key": key.split("-")[0]},
        "assignee": _jira_user(assignee, flavour) if assignee else None,
    })
    fields.pop("parent", None)
    if parent:
        fields["parent"] = {"key": parent, "id": str(20000 + int(parent.split("-")[1]))}
    if epic_link:
        fields[epic_link[0]] = epic_link[1]
    body["webhookEvent"] = event
    body["changelog"] = {"items": []}
    return body


def _jira_user(name: str, flavour: str) -> dict:
    if flavour == "cloud":
        return {"accountId": f"acc-{name}", "displayName": name.title(), "accountType": "atlassian"}
    return {"name": name, "key": f"JIRAUSER-{name}", "displayName": name.title()}


def jira_host(flavour: str) -> str:
    return _base(JIRA_CLOUD if flavour == "cloud" else JIRA_SERVER)["issue"]["self"].split("/")[2]


def github_comment_event(action: str, issue: dict, *, comment_id: int, body: str, author: str = "alice",
                         created_at: str = "2026-11-05T10:00:00Z", updated_at: str | None = None,
                         bot: bool = False) -> dict:
    """octokit's `issue_comment.<action>` with this issue, comment id, body, author and times."""
    payload = copy.deepcopy(_base(f"github/issue_comment/octokit-webhooks__{action}.payload.json"))
    payload["issue"] = copy.deepcopy(issue)
    repo = issue["repository_url"].split("/repos/")[1]
    user = {**payload["comment"]["user"], "login": author, "id": 5000 + len(author), "type": "Bot" if bot else "User"}
    payload["comment"].update({
        "id": comment_id, "body": body, "user": user, "created_at": created_at, "updated_at": updated_at or created_at,
        "html_url": f"https://github.com/{repo}/issues/{issue['number']}#issuecomment-{comment_id}",
        "url": f"https://api.github.com/repos/{repo}/issues/comments/{comment_id}",
        "issue_url": f"https://api.github.com/repos/{repo}/issues/{issue['number']}",
    })
    payload["sender"] = user
    return payload


JIRA_COMMENT_EVENTS = {
    ("cloud", "comment_created"): "jira/comment_created/mattermost-plugin-jira__webhook-cloud-comment-created.json",
    ("cloud", "comment_updated"): "jira/comment_updated/mattermost-plugin-jira__webhook-cloud-comment-updated.json",
    ("cloud", "comment_deleted"): "jira/comment_deleted/mattermost-plugin-jira__webhook-cloud-comment-deleted.json",
    ("server", "comment_created"): "jira/comment_created/mattermost-plugin-jira__webhook-server-comment-created.json",
    ("server", "comment_updated"): "jira/comment_updated/mattermost-plugin-jira__webhook-server-comment-updated.json",
    ("server", "comment_deleted"): "jira/comment_deleted/mattermost-plugin-jira__webhook-server-comment-deleted.json",
}


def jira_comment_event(event: str, key: str, *, flavour: str = "cloud", comment_id: int, body: str,
                       author: str = "alice", created: str = "2026-11-05T10:00:00.000+0000",
                       updated: str | None = None) -> dict:
    """mattermost's Cloud / Server comment event with this issue (Cloud: its stub; Server: only the comment)."""
    payload = copy.deepcopy(_base(JIRA_COMMENT_EVENTS[(flavour, event)]))
    base = _base(JIRA_CLOUD if flavour == "cloud" else JIRA_SERVER)["issue"]["self"].split("/rest/")[0]
    issue_id = 20000 + int(key.split("-")[1])  # as jira_issue_event numbers them
    person = _jira_user(author, flavour)
    payload["comment"].update({"id": str(comment_id), "body": body, "author": person, "updateAuthor": person,
                               "created": created, "updated": updated or created,
                               "self": f"{base}/rest/api/2/issue/{issue_id}/comment/{comment_id}"})
    if "issue" in payload:
        payload["issue"].update({"key": key, "id": str(issue_id), "self": f"{base}/rest/api/2/issue/{issue_id}"})
    if "user" in payload:
        payload["user"] = person
    return payload
