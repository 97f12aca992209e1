"""A Jira epic as a key result, Cloud and Server bodies, through the real HTTP path."""

from __future__ import annotations

import pytest

from integration.web.app import create_app
from tests.conftest import drain, key_result_json
from tests.mappings.test_github_key_results import assert_recount_agrees, numbers
from tests.payloads import DONE, IN_PROGRESS, TO_DO, jira_issue_event

KR = "jira-proj-1"


@pytest.fixture
def feed(post_jira, rt):
    def feed(body: dict, delivery: str | None = None):
        response = post_jira(body, delivery=delivery)
        assert response.status_code == 202, response.get_json()
        drain(rt)
        return response

    return feed


def kr_json(client, kr_id: str = KR) -> dict:
    return key_result_json(client, kr_id)


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_epic_with_children_through_status_categories_and_resolutions(feed, client, rt, flavour):
    def epic(**kw):
        return jira_issue_event("PROJ-1", flavour=flavour, summary="Cut churn", issue_type="Epic",
                                labels=("key-result",), **kw)

    def child(key, **kw):
        return jira_issue_event(key, flavour=flavour, parent="PROJ-1", **kw)

    feed(epic(assignee="alice", updated="2026-11-02T10:00:00.000+0000", event="jira:issue_created"))
    body = kr_json(client)
    login = "acc-alice" if flavour == "cloud" else "alice"
    assert (body["owner"], body["ownership"]) == ({"login": login, "name": "Alice"}, "ok")
    assert body["anchor"]["key"].endswith("/PROJ-1") and body["anchor"]["key"].startswith("jira:")

    feed(child("PROJ-2", updated="2026-11-03T10:00:00.000+0000", event="jira:issue_created"))
    feed(child("PROJ-3", updated="2026-11-03T10:00:00.000+0000", event="jira:issue_created"))
    feed(child("PROJ-4", updated="2026-11-03T10:00:00.000+0000", event="jira:issue_created", assignee="bob"))
    feed(child("PROJ-5", updated="2026-11-03T10:00:00.000+0000", event="jira:issue_created"))
    assert numbers(kr_json(client)) == (0, 0, 4, 0.0)

    feed(child("PROJ-2", category=IN_PROGRESS, updated="2026-11-04T10:00:00.000+0000"))
    assert numbers(kr_json(client)) == (0, 0, 4, 0.0)  # in progress is not done
    feed(child("PROJ-2", category=DONE, resolution="Done", updated="2026-11-05T10:00:00.000+0000"))
    feed(child("PROJ-3", category=DONE, resolution="Won't Do", updated="2026-11-05T10:00:00.000+0000"))
    assert numbers(kr_json(client)) == (1, 1, 3, 33.3)
    feed(child("PROJ-4", category=DONE, resolution="Fixed", assignee="bob", updated="2026-11-05T11:00:00.000+0000"))
    assert numbers(kr_json(client)) == (2, 1, 3, 66.7)
    # a resolution without the done category is not done (a workflow may set it early)
    feed(child("PROJ-5", category=TO_DO, resolution="Done", updated="2026-11-05T12:00:00.000+0000"))
    assert numbers(kr_json(client)) == (2, 1, 3, 66.7)
    feed(child("PROJ-4", category=TO_DO, assignee="bob", updated="2026-11-06T10:00:00.000+0000"))  # reopened
    assert numbers(kr_json(client)) == (1, 1, 3, 33.3)

    feed(epic(assignee=None, updated="2026-11-07T10:00:00.000+0000"))
    assert (kr_json(client)["owner"], kr_json(client)["ownership"]) == (None, "none")

    feed(jira_issue_event("PROJ-5", flavour=flavour, updated="2026-11-08T10:00:00.000+0000"))  # moved off the epic
    assert numbers(kr_json(client)) == (1, 1, 2, 50.0)
    feed(jira_issue_event("PROJ-2", flavour=flavour, parent="PROJ-1", updated="2026-11-08T10:00:00.000+0000",
                          event="jira:issue_deleted", category=DONE, resolution="Done"))
    assert numbers(kr_json(client)) == (0, 1, 1, 0.0)
    assert_recount_agrees(rt)


def test_epic_link_field_on_older_server_sites(make_runtime, settings, rt):
    rt = make_runtime(settings.with_overrides(jira_epic_link_field="customfield_10100"))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    from tests.conftest import as_body, jira_headers

    def post(body):
        raw = as_body(body)
        assert client.post("/webhooks/jira", data=raw, headers=jira_headers(raw)).status_code == 202
        drain(rt)

    post(jira_issue_event("PROJ-1", flavour="server", issue_type="Epic", labels=("key-result",),
                          updated="2026-11-02T10:00:00.000+0000"))
    post(jira_issue_event("PROJ-9", flavour="server", category=DONE, resolution="Fixed",
                          epic_link=("customfield_10100", "PROJ-1"), updated="2026-11-03T10:00:00.000+0000"))
    assert numbers(kr_json(client)) == (1, 0, 1, 100.0)


def test_okr_label_on_jira_and_story_points(make_runtime, settings):
    rt = make_runtime(settings.with_overrides(jira_story_points_fields=("customfield_10016",)))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    from tests.conftest import as_body, jira_headers

    def post(body):
        raw = as_body(body)
        assert client.post("/webhooks/jira", data=raw, headers=jira_headers(raw)).status_code == 202
        drain(rt)

    post(jira_issue_event("PROJ-1", issue_type="Epic", labels=("key-result",), updated="2026-11-02T10:00:00.000+0000"))
    labelled = jira_issue_event("OPS-7", labels=(f"okr-{KR}",), category=DONE, resolution="Done",
                                updated="2026-11-03T10:00:00.000+0000")
    labelled["issue"]["fields"]["customfield_10016"] = 5
    post(labelled)
    body = kr_json(client)
    assert [w["key"].rsplit("/", 1)[1] for w in body["work_items"]] == ["OPS-7"]
    from mappings.models import KeyResult

    with rt.sessions() as s:
        kr = s.get(KeyResult, KR)
        assert (kr.n_done, kr.points_done, kr.n_unestimated) == (1, 5.0, 0)


def test_jira_objective_owns_the_key_result_epics_under_it(feed, client):
    feed(jira_issue_event("PROJ-100", summary="Be the fastest", issue_type="Objective",
                          updated="2026-11-01T10:00:00.000+0000"))
    feed(jira_issue_event("PROJ-1", issue_type="Epic", labels=("key-result",), parent="PROJ-100",
                          updated="2026-11-01T11:00:00.000+0000"))
    feed(jira_issue_event("PROJ-2", parent="PROJ-1", category=DONE, resolution="Done",
                          updated="2026-11-02T10:00:00.000+0000"))
    [objective] = client.get("/api/v1/objectives").get_json()["objectives"]
    assert (objective["id"], objective["title"], objective["key_results"]) == ("jira-proj-100", "Be the fastest", [KR])
    assert objective["progress"] == {"percent": 100.0}
    assert kr_json(client)["objective"] == {"id": "jira-proj-100", "title": "Be the fastest"}
