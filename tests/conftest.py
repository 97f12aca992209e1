"""Shared test set-up: real databases (SQLite file, PostgreSQL schema), the real queue, signed posts.

PostgreSQL and Redis come from OKRBOT_TEST_POSTGRES_URL / OKRBOT_TEST_REDIS_URL (defaults: the local
servers). Without them the tests that need them skip with one line saying why — unless
OKRBOT_TEST_REQUIRE_SERVICES=1 (set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from integration.config import Settings
from integration.db import upgrade
from integration.runtime import build_runtime
from integration.web.app import create_app
from webhooks.signatures import sign

from .browser import require_chromium

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OKRBOT_SHARED", ROOT.parent / "shared"))
FIXTURES = SHARED / "fixtures"
HANDMADE = (ROOT / "tests" / "fixtures", ROOT / "tests" / "webhooks" / "fixtures")
GITHUB_SECRET = "gh-test-secret"
JIRA_SECRET = "jira-test-secret"
POSTGRES_URL = os.environ.get("OKRBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OKRBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE = os.environ.get("OKRBOT_TEST_REQUIRE_SERVICES") == "1"


def fixture_path(name: str) -> Path:
    """`github/issues/octokit-webhooks__opened.payload.json` under shared/fixtures, or a hand-made one."""
    for base in (FIXTURES, *HANDMADE):
        if (base / name).exists():
            return base / name
    raise FileNotFoundError(name)


def load_fixture(name: str) -> dict:
    return json.loads(fixture_path(name).read_bytes())


def _unavailable(what: str, exc: Exception):
    message = f"{what} not reachable ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
    if REQUIRE:
        pytest.fail(message + " and OKRBOT_TEST_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def postgres_url():
    """A fresh schema on the PostgreSQL server for this test, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        _unavailable("PostgreSQL at " + POSTGRES_URL, exc)
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def redis_url():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except Exception as exc:
        _unavailable("Redis at " + REDIS_URL, exc)
    yield REDIS_URL
    client.flushdb()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'okrbot.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
                    github_webhook_secrets=(GITHUB_SECRET,), jira_webhook_secrets=(JIRA_SECRET,),
                    retry_base_seconds=0.01, doorbell_window_ms=1.0)  # almost no wait: the suite rings often


@pytest.fixture
def make_runtime():
    made = []

    def make(settings: Settings, **kw):
        rt = build_runtime(settings, **kw)
        upgrade(rt.engine)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


@pytest.fixture
def rt(make_runtime, settings):
    return make_runtime(settings)


@pytest.fixture
def app(rt):
    """The app as `okrbot serve` on 127.0.0.1 builds it: open to loopback (the test client's address)."""
    return create_app(rt.settings, runtime=rt, open_to_loopback=True)


@pytest.fixture
def client(app):
    return app.test_client()


def key_result_json(client, kr_id: str) -> dict:
    """What the read API answers for one key result (it must answer 200)."""
    response = client.get(f"/api/v1/key-results/{kr_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def drain(rt) -> int:
    """Run every queued task with the real queue, as the consumer would; return how many ran."""
    rt.doorbell.flush()
    ran = 0
    while (task := rt.huey.dequeue()) is not None:
        rt.huey.execute(task)
        ran += 1
    return ran


def github_headers(body: bytes, event: str, delivery: str | None = None, secret: str = GITHUB_SECRET) -> dict:
    return {"Content-Type": "application/json", "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()), "X-Hub-Signature-256": sign(secret, body)}


def jira_headers(body: bytes, delivery: str | None = None, secret: str = JIRA_SECRET) -> dict:
    headers = {"Content-Type": "application/json", "X-Hub-Signature": sign(secret, body)}
    if delivery != "":
        headers["X-Atlassian-Webhook-Identifier"] = delivery or str(uuid.uuid4())
    return headers


def as_body(fixture: str | dict | bytes) -> bytes:
    if isinstance(fixture, bytes):
        return fixture
    if isinstance(fixture, dict):
        return json.dumps(fixture).encode()
    return fixture_path(fixture).read_bytes()


def github_poster(rt, default_event: str = "issues", client=None):
    """post(body, event): sign a GitHub body, post it through the app (202 expected), run the queue."""
    if client is None:
        from integration.web.app import create_app

        client = create_app(rt.settings, runtime=rt).test_client()

    def post(body, event: str = default_event) -> None:
        raw = as_body(body)
        response = client.post("/webhooks/github", data=raw, headers=github_headers(raw, event))
        assert response.status_code == 202, response.get_json()
        drain(rt)

    return post


@pytest.fixture
def post_github(client):
    """Sign and post a GitHub fixture (name under shared/fixtures, a dict, or bytes)."""

    def post(fixture, event: str | None = None, delivery: str | None = None, secret: str = GITHUB_SECRET):
        event = event or (fixture.split("/")[1] if isinstance(fixture, str) else None)
        body = as_body(fixture)
        return client.post("/webhooks/github", data=body, headers=github_headers(body, event, delivery, secret))

    return post


@pytest.fixture
def post_jira(client):
    def post(fixture, delivery: str | None = None, secret: str = JIRA_SECRET):
        body = as_body(fixture)
        return client.post("/webhooks/jira", data=body, headers=jira_headers(body, delivery, secret))

    return post


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches the system Chromium (tests/browser.py says why and how)."""
    return {**browser_type_launch_args, "executable_path": require_chromium()}
