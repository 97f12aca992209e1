"""The doorbell gathers the deliveries committed within its window (OKRBOT_DOORBELL_WINDOW_MS) into one task."""

from __future__ import annotations

from integration.config import load_settings
from integration.jobs.queue import Doorbell
from integration.web.app import create_app
from tests.conftest import as_body, drain, github_headers
from tests.integration.jobs.test_durability import OPENED, deliveries
from webhooks.models import PROCESSED


def test_the_window_is_a_setting_in_milliseconds():
    assert load_settings({}).doorbell_window_ms == 50.0
    assert load_settings({"OKRBOT_DOORBELL_WINDOW_MS": "0.5"}).doorbell_window_ms == 0.5


def test_rings_within_the_window_are_sent_together_and_later_ones_apart():
    sent = []
    bell = Doorbell(sent.append, window=0.5)
    for delivery_id in (1, 2, 3):
        bell.ring(delivery_id)
    bell.flush()
    bell.ring(4)
    bell.flush()
    assert sent == [[1, 2, 3], [4]]


def test_the_runtime_builds_its_doorbell_with_the_configured_window(make_runtime, settings):
    rt = make_runtime(settings.with_overrides(doorbell_window_ms=1500.0))
    client = create_app(rt.settings, runtime=rt).test_client()
    for delivery in ("d-1", "d-2", "d-3"):
        body = as_body(OPENED)
        response = client.post("/webhooks/github", data=body, headers=github_headers(body, "issues", delivery))
        assert response.status_code == 202
    rt.doorbell.flush()
    assert rt.huey.pending_count() == 1  # three deliveries, one ring
    assert drain(rt) == 1
    assert [d.status for d in deliveries(rt)] == [PROCESSED] * 3
