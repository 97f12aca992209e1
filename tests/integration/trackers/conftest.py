"""What the tracker client tests share: the trackers' HTTP faked with responses, and what a call sent."""

from __future__ import annotations

import json

import pytest
import responses


@pytest.fixture
def api():
    """Every request must be registered, and every registered one made."""
    with responses.RequestsMock() as mock:
        yield mock


def sent(call) -> tuple[str, str, object, str]:
    """(method, URL, JSON body or None, Authorization) of a recorded call."""
    body = json.loads(call.request.body) if call.request.body else None
    return call.request.method, call.request.url, body, call.request.headers["Authorization"]
