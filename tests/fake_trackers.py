"""GitHub's and Jira's comment APIs faked at the HTTP level with `responses` (hand-made, shaped by the
real bodies: the `comment`, `issue` and `repository` objects of octokit's webhook examples, the Jira
comment of jira-ruby's recorded responses). The clients under test are the real ones; only the
network is replaced. Every request is kept, so tests assert exactly what was sent.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import responses

from tests.conftest import load_fixture

GITHUB = "https://api.github.com"


@dataclass
class Forced:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)
    happened: bool = False  # the write took effect although the answer was an error


class FakeGithub:
    def __init__(self, rsps: responses.RequestsMock, base: str = GITHUB):
        self.base, self.comments, self.forced = base, {}, []
        self.sub_issue_lists: dict[tuple[str, int], list[dict]] = {}  # (repo, parent number) → issues
        self.issues: dict[tuple[str, int], dict] = {}  # what GET issue answers, when set
        self.not_modified = 0
        self._ids = itertools.count(1001)
        self.deleted: set[int] = set()
        webhook = load_fixture("github/issue_comment/octokit-webhooks__created.payload.json")
        self._comment, self._issue, self._repo = webhook["comment"], webhook["issue"], webhook["repository"]
        b = _with_any_port(base)
        rsps.add_callback("GET", re.compile(rf"{b}/repos/[^/]+/[^/]+$"), self._get_repo)
        rsps.add_callback("GET", re.compile(rf"{b}/repos/[^/]+/[^/]+/issues/\d+$"), self._get_issue)
        rsps.add_callback("GET", re.compile(rf"{b}/repos/[^/]+/[^/]+/issues/\d+/comments(\?.*)?$"), self._list)
        rsps.add_callback("GET", re.compile(rf"{b}/repos/[^/]+/[^/]+/issues/\d+/sub_issues(\?.*)?$"), self._subs)
        rsps.add_callback("POST", re.compile(rf"{b}/repos/[^/]+/[^/]+/issues/\d+/comments$"), self._create)
        rsps.add_callback("GET", re.compile(rf"{b}/repos/[^/]+/[^/]+/issues/comments/\d+$"), self._get_comment)
        rsps.add_callback("PATCH", re.compile(rf"{b}/repos/[^/]+/[^/]+/issues/comments/\d+$"), self._edit)
        rsps.add_callback("POST", re.compile(rf"{b}/repos/[^/]+/[^/]+/issues/comments/\d+/reactions$"), self._react)
        self.reactions: dict[int, set[str]] = {}  # comment id → the reactions okrbot made
        self.rsps = rsps

    # -- what tests look at --------------------------------------------------------------------

    def writes(self) -> list[tuple[str, str, str]]:
        """(method, path, body) of every content-creating request, in order."""
        return [(c.request.method, c.request.path_url, json.loads(c.request.body)["body"])
                for c in self.rsps.calls if c.request.method in ("POST", "PATCH") and "/comments" in c.request.url]

    def requests(self, *methods: str) -> list[tuple[str, str, dict]]:
        """(method, path, JSON body) of every request with one of these methods, in order."""
        return [(c.request.method, c.request.path_url, json.loads(c.request.body or "{}"))
                for c in self.rsps.calls if c.request.method in methods]

    def on(self, issue: int) -> list[dict]:
        return [c for c in self.comments.values() if c["issue"] == issue and c["id"] not in self.deleted]

    # -- the API -------------------------------------------------------------------------------

    def _json(self, status, body, headers=None):
        return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body)

    def _get_repo(self, request):
        owner, repo = request.path_url.split("/")[2:4]
        body = copy.deepcopy(self._repo) | {"full_name": f"{owner}/{repo}", "name": repo,
                                            "url": f"{self.base}/repos/{owner}/{repo}"}
        return self._json(200, body)

    def _get_issue(self, request):
        parts = request.path_url.split("?")[0].split("/")
        known = self.issues.get((f"{parts[2]}/{parts[3]}", int(parts[5])))
        body = known or copy.deepcopy(self._issue) | {"number": int(parts[5]), "url": f"{self.base}{request.path_url}"}
        return self._conditional(request, body)

    def _comment_json(self, c: dict) -> dict:
        return copy.deepcopy(self._comment) | {"id": c["id"], "body": c["body"],
                                               "url": f"{self.base}/repos/{c['repo']}/issues/comments/{c['id']}"}

    def _subs(self, request):
        """Sub-issues, 100 a page with GitHub's Link header, and ETags that answer 304 when unchanged."""
        parts = request.path_url.split("?")[0].split("/")
        if self.forced and self.forced[0].status in (403, 429) and "sub_issues" in request.url:
            f = self.forced.pop(0)
            return self._json(f.status, f.body, f.headers)
        items = self.sub_issue_lists.get((f"{parts[2]}/{parts[3]}", int(parts[5])), [])
        page = int(parse_qs(urlsplit(request.url).query).get("page", ["1"])[0])
        chunk = items[(page - 1) * 100: page * 100]
        headers = {}
        if page * 100 < len(items):
            path = request.path_url.split("?")[0]
            headers["Link"] = f'<{self.base}{path}?per_page=100&page={page + 1}>; rel="next"'
        return self._conditional(request, chunk, headers)

    def _conditional(self, request, body, headers=None):
        text = json.dumps(body, sort_keys=True)
        etag = '"' + hashlib.sha1(text.encode()).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return 304, {"ETag": etag, **(headers or {})}, ""
        return 200, {"Content-Type": "application/json", "ETag": etag, **(headers or {})}, text

    def _list(self, request):
        parts = request.path_url.split("?")[0].split("/")
        repo, issue = f"{parts[2]}/{parts[3]}", int(parts[5])
        found = [self._comment_json(c) for c in self.comments.values()
                 if c["repo"] == repo and c["issue"] == issue and c["id"] not in self.deleted]
        return self._json(200, found)

    def _force(self, do):
        if self.forced:
            f = self.forced.pop(0)
            if f.happened:
                do()
            return self._json(f.status, f.body, f.headers)
        return None

    def _create(self, request):
        parts = request.path_url.split("/")
        repo, issue, body = f"{parts[2]}/{parts[3]}", int(parts[5]), json.loads(request.body)["body"]

        def do():
            cid = next(self._ids)
            self.comments[cid] = {"id": cid, "repo": repo, "issue": issue, "body": body}
            return cid

        forced = self._force(do)
        if forced:
            return forced
        return self._json(201, self._comment_json(self.comments[do()]))

    def _react(self, request):
        """201 with the new reaction, 200 with it when it exists (GitHub's answers, Reactions API)."""
        cid, content = int(request.path_url.split("/")[-2]), json.loads(request.body)["content"]
        forced = self._force(lambda: self.reactions.setdefault(cid, set()).add(content))
        if forced:
            return forced
        made = content in self.reactions.setdefault(cid, set())
        self.reactions[cid].add(content)
        return self._json(200 if made else 201, {"id": 7000 + cid % 1000, "content": content,
                                                 "user": copy.deepcopy(self._comment["user"]),
                                                 "created_at": "2026-11-05T10:00:05Z"})

    def _get_comment(self, request):
        cid = int(request.path_url.rsplit("/", 1)[1])
        if cid not in self.comments or cid in self.deleted:
            return self._json(404, {"message": "Not Found"})
        return self._json(200, self._comment_json(self.comments[cid]))

    def _edit(self, request):
        cid = int(request.path_url.rsplit("/", 1)[1])
        body = json.loads(request.body)["body"]
        forced = self._force(lambda: self.comments[cid].update(body=body))
        if forced:
            return forced
        if cid not in self.comments or cid in self.deleted:
            return self._json(404, {"message": "Not Found"})
        self.comments[cid]["body"] = body
        return self._json(200, self._comment_json(self.comments[cid]))


class FakeJira:
    """POST/PUT/GET /rest/api/2/issue/{key}/comment on one site, shaped by jira-ruby's recorded comment."""

    def __init__(self, rsps: responses.RequestsMock, base: str):
        self.base, self.comments, self.forced = base.rstrip("/"), {}, []
        self.search_results: list[dict] = []  # what a JQL search answers
        self._ids = itertools.count(10100)
        self._template = load_fixture_api("jira/jira-ruby/issue/10002/comment/10000.json")
        b = _with_any_port(self.base)
        rsps.add_callback("GET", re.compile(rf"{b}/rest/api/2/issue/[A-Z0-9]+-\d+/comment(\?.*)?$"), self._list)
        rsps.add_callback("POST", re.compile(rf"{b}/rest/api/2/issue/[A-Z0-9]+-\d+/comment$"), self._create)
        rsps.add_callback("PUT", re.compile(rf"{b}/rest/api/2/issue/[A-Z0-9]+-\d+/comment/\d+$"), self._edit)
        for method in ("GET", "POST"):  # reconcile's searches: nothing beyond what webhooks told
            rsps.add_callback(method, re.compile(rf"{b}/rest/api/[23]/search(/jql)?(\?.*)?$"), self._search)
        self.rsps = rsps

    def writes(self) -> list[tuple[str, str, str]]:
        return [(c.request.method, c.request.path_url, json.loads(c.request.body)["body"])
                for c in self.rsps.calls if c.request.method in ("POST", "PUT") and "/comment" in c.request.url]

    def _search(self, request):
        found = self.search_results
        return self._json(200, {"startAt": 0, "maxResults": 100, "total": len(found), "issues": found})

    def _json(self, status, body):
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    def _comment_json(self, c):
        return copy.deepcopy(self._template) | {"id": str(c["id"]), "body": c["body"],
                                                "self": f"{self.base}/rest/api/2/issue/{c['issue']}/comment/{c['id']}"}

    def _list(self, request):
        issue = request.path_url.split("/")[5]
        found = [self._comment_json(c) for c in self.comments.values() if c["issue"] == issue]
        return self._json(200, {"startAt": 0, "maxResults": 50, "total": len(found), "comments": found})

    def _create(self, request):
        issue, body = request.path_url.split("/")[5], json.loads(request.body)["body"]
        if self.forced:
            return self._json(*self.forced.pop(0))
        cid = next(self._ids)
        self.comments[cid] = {"id": cid, "issue": issue, "body": body}
        return self._json(201, self._comment_json(self.comments[cid]))

    def _edit(self, request):
        cid = int(request.path_url.rsplit("/", 1)[1])
        if cid not in self.comments:
            return self._json(404, {"errorMessages": ["Comment not found"]})
        self.comments[cid]["body"] = json.loads(request.body)["body"]
        return self._json(200, self._comment_json(self.comments[cid]))


def _with_any_port(base: str) -> str:
    """PyGithub writes https://api.github.com:443/...: match the base with or without its port."""
    scheme, _, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    return re.escape(f"{scheme}://{host.split(':')[0]}") + r"(?::\d+)?" + re.escape(slash + path)


def load_fixture_api(name: str) -> dict:
    from tests.conftest import FIXTURES

    return json.loads((FIXTURES / "api" / name).read_bytes())
