"""The fuzz suite: hostile and broken requests on both endpoints, through the real receiver, the real
inbox on SQLite and PostgreSQL, and the real worker (the generated corpus is in corpus.py).

What it holds to: no answer is a 5xx (503 only while the database is down); each request of the
corpus gets the answer it names; a signed body that is malformed is refused with 400, or stored and
then marked failed with a reason `okrbot deliveries` shows; the worker neither crashes nor leaves a
delivery waiting; and a good delivery is answered and applied normally afterwards.
"""

from __future__ import annotations

import json
import os
import time
import uuid

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from integration.cli.main import main
from integration.config import Settings
from mappings.models import WorkItem
from tests.conftest import drain, load_fixture
from tests.webhooks import corpus
from tests.webhooks.corpus import GITHUB_PATH, JIRA_PATH, OPENED
from webhooks import github, jira
from webhooks.errors import PayloadError
from webhooks.models import FAILED, PROCESSED, Delivery

OPTIONS = Settings()  # the parsers' options as okrbot's defaults set them
# Hypothesis: bounded so that the suite stays within a minute or two; the same examples every CI run.
FUZZ = settings(max_examples=150, deadline=None, derandomize=os.environ.get("CI") == "true",
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

# One fixture per kind of event okrbot applies: its broken fields go through HTTP, inbox and worker.
THROUGH_THE_WORKER = (
    OPENED,
    "github/issues/octokit-webhooks-net__typed.payload.json",
    "github/issues/octokit-webhooks__milestoned.payload.json",
    "github/issues/octokit-webhooks__transferred.payload.json",
    "github/issue_comment/octokit-webhooks__created.with-installation.payload.json",
    "github/milestone/octokit-webhooks__closed.payload.json",
    "github/installation/octokit-webhooks__created.payload.json",
    "github/installation_repositories/octokit-webhooks__added.payload.json",
    "jira/issue_created/mattermost-plugin-jira__webhook-cloud-issue-created-many-fields.json",
    "jira/issue_updated/mattermost-plugin-jira__webhook-server-issue-updated-resolved.json",
    "jira/issue_deleted/mattermost-plugin-jira__webhook-issue-deleted.json",
    "jira/comment_created/mattermost-plugin-jira__webhook-cloud-comment-created.json",
)
REFUSED_SAMPLE = 3  # of each fixture's mutations the parser refuses, this many go through the worker too


def _parse(name: str, payload: dict, rt_options=None):
    if name.startswith("github/"):
        return github.parse(name.split("/")[1], payload, OPTIONS.github_options)
    return jira.parse(payload, OPTIONS.jira_options)


def _post(client, path: str, body: bytes, headers: list[tuple[str, str]]):
    return client.post(path, data=body, headers=headers)


def _signed_post(client, name: str, payload: dict):
    body = json.dumps(payload).encode()
    path = GITHUB_PATH if name.startswith("github/") else JIRA_PATH
    headers = corpus.signed(path, body, event=name.split("/")[1], delivery=str(uuid.uuid4()))
    return _post(client, path, body, headers)


def _deliveries(rt) -> list[Delivery]:
    with rt.sessions() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def _good_delivery_is_applied(rt, client) -> None:
    """After all of it, a good delivery is answered 202 and applied."""
    payload = load_fixture(OPENED)
    payload["issue"]["title"] = "Still answered normally"
    payload["issue"]["updated_at"] = "2099-01-01T00:00:00Z"
    assert _signed_post(client, OPENED, payload).status_code == 202
    drain(rt)
    with rt.sessions() as s:
        assert s.get(WorkItem, "github:Codertocat/Hello-World#1").title == "Still answered normally"


def _failed_reasons_are_listed(rows: list[Delivery], database_url: str, tmp_path) -> None:
    """`okrbot deliveries --failed` shows each failed delivery with its reason."""
    failed = [d for d in rows if d.status == FAILED]
    env = {"OKRBOT_DATABASE_URL": database_url, "OKRBOT_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}"}
    out = CliRunner().invoke(main, ["deliveries", "--failed", "--limit", str(len(rows) + 1)], env=env,
                             catch_exceptions=False).output
    listed = {int(line.split()[0]): line for line in out.splitlines()[1:]}
    assert sorted(listed) == sorted(d.id for d in failed)
    for d in failed:
        assert d.last_error[:100] in listed[d.id]


def test_every_field_of_every_real_body_is_parsed_or_refused_with_a_reason():
    """Each field of each real fixture, set to a null, a huge number or a wrong type: the parser the
    worker runs returns events or raises PayloadError (a delivery marked failed with that reason)."""
    crashes, cases = [], 0
    for tracker in ("github", "jira"):
        for name in corpus.used_fixtures(tracker):
            for label, payload in corpus.field_corpus(name):
                cases += 1
                try:
                    _parse(name, payload)
                except PayloadError as exc:
                    assert exc.message
                except Exception as exc:  # noqa: BLE001 - what the test looks for
                    crashes.append(f"{label}: {type(exc).__name__}: {exc}")
    assert cases > 100_000
    assert crashes == []


def _worker_corpus() -> list[tuple[str, str, dict, bool]]:
    """The mutations of THROUGH_THE_WORKER that change what is applied (the rest parse to the very
    events of the real body), and a sample of those the parser refuses (the last field says which)."""
    out = []
    for name in THROUGH_THE_WORKER:
        base, refused = _parse(name, load_fixture(name)), 0
        for label, payload in corpus.field_corpus(name):
            try:
                if _parse(name, payload) != base:
                    out.append((name, label, payload, False))
            except PayloadError:
                refused += 1
                if refused <= REFUSED_SAMPLE:
                    out.append((name, label, payload, True))
    return out


def test_broken_fields_through_the_receiver_and_the_worker(rt, client, database_url, tmp_path):
    posted = _worker_corpus()
    assert len(posted) > 500
    answers = {label: _signed_post(client, name, payload).status_code for name, label, payload, _ in posted}
    assert {label: code for label, code in answers.items() if code not in (202, 204, 400)} == {}
    started = time.monotonic()
    drain(rt)
    assert time.monotonic() - started < 120  # nothing waits on a retry, nothing hangs
    rows = _deliveries(rt)
    assert len(rows) == sum(1 for code in answers.values() if code == 202)
    assert [(d.id, d.status, d.last_error) for d in rows if d.status not in (PROCESSED, FAILED)] == []
    failed = [d for d in rows if d.status == FAILED]
    # Every stored body the parser refuses is failed. (Whether an overlong value fails depends on the
    # batch: a snapshot older than another of the same item in its batch is never written, so never
    # checked against the column; hence no count of all failures.)
    statuses: dict[bytes, set[str]] = {}
    for d in rows:
        statuses.setdefault(bytes(d.body), set()).add(d.status)
    refused = {label: statuses[json.dumps(payload).encode()] for _, label, payload, was_refused in posted
               if was_refused and answers[label] == 202}
    assert len(refused) >= len(THROUGH_THE_WORKER)
    assert {label: status for label, status in refused.items() if status != {FAILED}} == {}
    assert [(d.id, d.attempts) for d in failed if not d.last_error or d.attempts != 1] == []
    reasons = {d.last_error for d in failed}
    assert any("characters; it holds at most" in r for r in reasons)  # overlong values, refused before the insert
    assert any(r.startswith("unparseable body: ") for r in reasons)
    _failed_reasons_are_listed(rows, database_url, tmp_path)
    _good_delivery_is_applied(rt, client)


def test_every_request_of_the_corpus_gets_its_answer(rt, client):
    requests = corpus.request_corpus()
    assert len(requests) > 100
    wrong = {}
    for r in requests:
        code = _post(client, r.path, r.body, r.headers).status_code
        if code not in r.expected:
            wrong[r.path + " " + r.label] = (code, sorted(r.expected))
    assert wrong == {}
    accepted = sum(1 for r in requests if r.expected == {202})
    assert len(_deliveries(rt)) == accepted
    drain(rt)
    assert {d.status for d in _deliveries(rt)} == {PROCESSED}
    _good_delivery_is_applied(rt, client)


def test_while_the_database_is_down_the_only_5xx_is_503(make_runtime, tmp_path):
    from integration.runtime import build_runtime
    from integration.web.app import create_app

    down = Settings(database_url=f"sqlite:///{tmp_path / 'no-such-dir' / 'okrbot.db'}",
                    queue_url=f"sqlite:///{tmp_path / 'queue.db'}", github_webhook_secrets=("gh-test-secret",),
                    jira_webhook_secrets=("jira-test-secret",))
    rt = build_runtime(down)
    try:
        client = create_app(down, runtime=rt).test_client()
        answers = {}
        for r in corpus.request_corpus():
            answers[r.path + " " + r.label] = code = _post(client, r.path, r.body, r.headers).status_code
            assert code == 503 if r.expected == {202} else code in r.expected, (r.label, code)
        assert 503 in answers.values()
    finally:
        rt.close()


def test_an_oversized_body_answers_413_and_stores_nothing(make_runtime, settings):
    from integration.web.app import create_app

    rt = make_runtime(settings.with_overrides(max_body_bytes=64 * 1024))
    client = create_app(rt.settings, runtime=rt).test_client()
    for path in (GITHUB_PATH, JIRA_PATH):
        big = b'{"a": "' + b"x" * (64 * 1024) + b'"}'
        answer = _post(client, path, big, corpus.signed(path, big))
        assert (answer.status_code, answer.get_json()) == (
            413, {"error": f"body of {len(big)} bytes exceeds the limit of 65536"})
        form = b"payload=" + big
        headers = corpus.signed(path, form, "application/x-www-form-urlencoded")
        assert _post(client, path, form, headers).status_code == (413 if path == GITHUB_PATH else 415)
    assert _deliveries(rt) == []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_WORKER_FIXTURES = st.sampled_from(THROUGH_THE_WORKER)


@st.composite
def _broken_real_body(draw) -> tuple[str, dict]:
    """A real fixture with one field (nested ones too) replaced by any JSON value."""
    name = draw(_WORKER_FIXTURES)
    payload = load_fixture(name)
    path = draw(st.sampled_from(list(corpus.field_paths(payload))))
    return name, corpus.replaced(payload, path, draw(_JSON))


@FUZZ
@given(case=_broken_real_body())
def test_any_value_at_any_field_is_applied_or_fails_readably(rt, client, case):
    name, payload = case
    before = {d.id for d in _deliveries(rt)}
    code = _signed_post(client, name, payload).status_code
    assert code in (202, 204, 400)
    drain(rt)
    new = [d for d in _deliveries(rt) if d.id not in before]
    assert len(new) == (1 if code == 202 else 0)
    for d in new:
        assert d.status == PROCESSED or (d.status == FAILED and d.last_error and d.attempts == 1), d.last_error


_HEADER_NAMES = st.sampled_from(["Content-Type", "X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256",
                                 "X-Hub-Signature", "X-Atlassian-Webhook-Identifier", "Content-Encoding"])
# any text a header line can carry (HTTP has no line break inside a value)
_HEADER_VALUES = (st.text(st.characters(blacklist_characters="\r\n"), max_size=80)
                  | st.sampled_from(["application/json", "issues", "sha256=" + "0" * 64]))


@FUZZ
@given(path=st.sampled_from([GITHUB_PATH, JIRA_PATH]),
       headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=8),
       body=st.binary(max_size=300) | _JSON.map(lambda v: json.dumps(v).encode()),
       sign_it=st.booleans())
def test_any_headers_and_bytes_get_a_4xx_or_are_stored(rt, client, path, headers, body, sign_it):
    if sign_it:
        headers = corpus.signed(path, body, event="issues") + headers
    code = _post(client, path, body, headers).status_code
    assert code in (200, 202, 204, 400, 401, 413, 415)
    if not sign_it:
        assert code in (400, 401, 415)  # unsigned: never stored


def test_hypothesis_runs_reproducibly_under_ci():
    assert FUZZ.derandomize == (os.environ.get("CI") == "true")
    assert FUZZ.deadline is None


def test_the_metrics_label_of_an_unknown_event_is_other(rt, client):
    body = json.dumps(load_fixture(OPENED)).encode()
    names = [f"made-up-{n}" for n in range(5)]
    for name in names:
        assert _post(client, GITHUB_PATH, body, corpus.signed(GITHUB_PATH, body, event=name)).status_code == 204
    assert _post(client, GITHUB_PATH, body, corpus.signed(GITHUB_PATH, body)).status_code == 202
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'okrbot_deliveries_total{event="other",outcome="ignored",tracker="github"} 5.0' in metrics
    assert 'okrbot_deliveries_total{event="issues",outcome="accepted",tracker="github"} 1.0' in metrics
    assert [n for n in names if n in metrics] == []
    unsigned = _post(client, GITHUB_PATH, body, [("Content-Type", "application/json")])
    assert unsigned.status_code == 401  # refused before its event was read: labelled "-"
    assert 'okrbot_deliveries_total{event="-",outcome="SignatureError",tracker="github"} 1.0' in \
        client.get("/metrics").get_data(as_text=True)
