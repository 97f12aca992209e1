"""The access policy's other sides: `okrbot serve` on loopback stays open to loopback, the start errors
that keep a half-configured sign-in from running, and the rules a session is held to."""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from integration.config import ConfigError, load_settings
from integration.web.app import create_app
from tests.web_processes import base_env, gunicorn, okrbot_serve

API = "/api/v1/key-results"


def test_okrbot_serve_on_loopback_is_open_to_loopback(tmp_path):
    web = okrbot_serve(base_env(tmp_path), tmp_path / "serve.log")
    try:
        web.wait_ready()
        answer = requests.get(web.url + API, timeout=10)
        assert (answer.status_code, answer.json()) == (200, {"key_results": []})
        account = requests.get(web.url + "/account", timeout=10)
        assert account.status_code == 200 and "needs no sign-in" in account.text
        assert requests.get(web.url + "/metrics", timeout=10).status_code == 200
    finally:
        web.stop()


def test_okrbot_serve_behind_a_declared_proxy_has_no_loopback_exception(tmp_path):
    env = base_env(tmp_path, TRUST_PROXY="1", API_TOKEN="serve-token-0123456789", SECRET_KEY="s" * 40)
    web = okrbot_serve(env, tmp_path / "serve.log")
    try:
        web.wait_ready()
        assert requests.get(web.url + API, timeout=10).status_code == 401
        page = requests.get(web.url + "/", allow_redirects=False, timeout=10)
        assert (page.status_code, page.headers["Location"]) == (302, "/login?next=/")
    finally:
        web.stop()


def test_gunicorn_with_sign_in_but_no_secret_key_does_not_start(tmp_path):
    web = gunicorn(base_env(tmp_path, API_TOKEN="a-token-without-a-secret-key"), tmp_path / "web.log")
    try:
        code = web.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        web.stop()
        raise AssertionError("gunicorn started without OKRBOT_SECRET_KEY: " + web.log()[-2000:]) from None
    assert code != 0
    assert "OKRBOT_SECRET_KEY: needed to sign sign-in sessions" in web.log()
    assert "a-token-without-a-secret-key" not in web.log()


@pytest.mark.parametrize(("env", "message"), [
    ({"OKRBOT_GITHUB_CLIENT_ID": "Iv1.x"}, "OKRBOT_GITHUB_CLIENT_SECRET: GitHub sign-in needs both"),
    ({"OKRBOT_GITHUB_CLIENT_ID": "Iv1.x", "OKRBOT_GITHUB_CLIENT_SECRET": "s"}, "OKRBOT_ALLOWED_ORGS: GitHub sign-in "
                                                                                "admits nobody"),
    ({"OKRBOT_ALLOWED_ORGS": "acme"}, "OKRBOT_GITHUB_CLIENT_ID: OKRBOT_ALLOWED_ORGS / OKRBOT_ALLOWED_USERS are for"),
    ({"OKRBOT_SECRET_KEY": "short"}, "OKRBOT_SECRET_KEY: too short (5 characters, at least 32)"),
    ({"OKRBOT_TRUST_PROXY": "maybe"}, "OKRBOT_TRUST_PROXY: expected 1/0"),
])
def test_a_half_set_up_sign_in_is_a_start_error(env, message):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert str(info.value).startswith(message)


def test_the_sign_in_settings_are_read(tmp_path):
    settings = load_settings({"OKRBOT_GITHUB_CLIENT_ID": "Iv1.x", "OKRBOT_GITHUB_CLIENT_SECRET": "s3",
                              "OKRBOT_ALLOWED_ORGS": "acme, widgets", "OKRBOT_ALLOWED_USERS": "dave",
                              "OKRBOT_TRUST_PROXY": "yes", "OKRBOT_SESSION_HOURS": "8",
                              "OKRBOT_GITHUB_URL": "https://ghe.example.com/", "OKRBOT_SECRET_KEY": "k" * 40})
    assert (settings.allowed_orgs, settings.allowed_users, settings.trust_proxy, settings.session_hours,
            settings.github_url) == (("acme", "widgets"), ("dave",), True, 8, "https://ghe.example.com")
    assert "s3" not in repr(settings) and "k" * 40 not in repr(settings)


def _app(make_runtime, settings, **overrides):
    rt = make_runtime(settings.with_overrides(**overrides))
    return create_app(rt.settings, runtime=rt)


def _signed_in_client(make_runtime, settings, **overrides):
    app = _app(make_runtime, settings, **overrides)
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post("/login", data={"csrf_token": csrf, "token": overrides["api_token"], "next": API})
    assert (answer.status_code, answer.headers["Location"]) == (302, API)
    return client


def test_a_changed_api_token_ends_the_sessions_it_opened(make_runtime, settings):
    key = "the-same-secret-key-for-both-apps-0123456789"
    client = _signed_in_client(make_runtime, settings, api_token="first-token", secret_key=key)
    assert client.get(API).status_code == 200
    cookie = client.get_cookie("okrbot_session").value
    same = _app(make_runtime, settings, api_token="first-token", secret_key=key).test_client()
    same.set_cookie("okrbot_session", cookie)
    assert same.get(API).status_code == 200  # the cookie alone carries the session, across processes
    other = _app(make_runtime, settings, api_token="second-token", secret_key=key).test_client()
    other.set_cookie("okrbot_session", cookie)
    assert other.get(API).status_code == 401


def test_a_session_cookie_signed_with_another_key_is_not_a_session(make_runtime, settings):
    client = _signed_in_client(make_runtime, settings, api_token="a-token", secret_key="o" * 40)
    cookie = client.get_cookie("okrbot_session").value
    other = _app(make_runtime, settings, api_token="a-token", secret_key="x" * 40).test_client()
    other.set_cookie("okrbot_session", cookie)
    assert other.get(API).status_code == 401


def test_under_serve_on_loopback_a_visitor_from_another_machine_is_sent_to_login(app):
    client = app.test_client()
    assert client.get("/account").status_code == 200
    far = client.get("/account", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert (far.status_code, far.headers["Location"]) == (302, "/login?next=/account")
