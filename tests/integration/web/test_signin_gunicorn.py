"""Who may see what under the Procfile's web line: real gunicorn, real HTTP, Debian's Chromium, and a
small GitHub on loopback (tests/fake_github_oauth.py) for the OAuth flow and the membership check.

Every request here comes from 127.0.0.1, as through a reverse proxy on the same machine: none of them
is admitted for it.
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser import SCREENSHOTS
from tests.conftest import GITHUB_SECRET, as_body, github_headers
from tests.fake_github_oauth import CLIENT_ID, CLIENT_SECRET, FakeGithubServer
from tests.web_processes import base_env, gunicorn

TOKEN = "okrbot-api-token-for-the-signin-tests-0123"
SECRET_KEY = "session-signing-key-for-the-signin-tests-0123456789"
MEMBERS = {"alice": {"acme": "active"}, "mallory": {"evilcorp": "active"}, "pat": {"acme": "pending"},
           "dave": {}}
API = "/api/v1/key-results"


@pytest.fixture(scope="module")
def github():
    with FakeGithubServer(MEMBERS) as fake:
        yield fake


def _env(tmp, github, **extra):
    return base_env(tmp, API_TOKEN=TOKEN, SECRET_KEY=SECRET_KEY, GITHUB_WEBHOOK_SECRET=GITHUB_SECRET,
                    GITHUB_CLIENT_ID=CLIENT_ID, GITHUB_CLIENT_SECRET=CLIENT_SECRET, GITHUB_URL=github.base,
                    GITHUB_API_URL=github.base, ALLOWED_ORGS="acme", ALLOWED_USERS="dave", **extra)


@pytest.fixture(scope="module")
def web(tmp_path_factory, github):
    tmp = tmp_path_factory.mktemp("gunicorn")
    process = gunicorn(_env(tmp, github), tmp / "web.log")
    try:
        yield process.wait_ready()
    finally:
        process.stop()


@pytest.fixture(scope="module")
def web_behind_proxy(tmp_path_factory, github):
    tmp = tmp_path_factory.mktemp("gunicorn-proxy")
    process = gunicorn(_env(tmp, github, TRUST_PROXY="1"), tmp / "web.log")
    try:
        yield process.wait_ready()
    finally:
        process.stop()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in_with_token(http: requests.Session, base: str, token: str = TOKEN, **kw) -> requests.Response:
    form = http.get(f"{base}/login?next=/account", timeout=10)
    return http.post(f"{base}/login", data={"csrf_token": csrf_token(form.text), "token": token, "next": "/account"},
                     allow_redirects=False, timeout=10, **kw)


def sign_in_with_github(http: requests.Session, base: str, login: str) -> requests.Response:
    """Through the fake's page as a browser would follow it; the answer of okrbot's callback."""
    authorize = http.get(f"{base}/login/github?next=/account", timeout=10)
    link = re.search(rf'<a href="([^"]+)">{login}</a>', authorize.text).group(1).replace("&amp;", "&")
    return http.get(link, allow_redirects=False, timeout=10)


# --- the API and the machine endpoints -------------------------------------------------------------

def test_the_api_answers_401_without_a_token_even_from_loopback(web):
    for path in (API, "/api/v1/objectives", "/api/v1/key-results/anything", "/metrics"):
        answer = requests.get(web.url + path, timeout=10)
        assert answer.status_code == 401, path
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json() == {"error": "sign in, or send Authorization: Bearer <OKRBOT_API_TOKEN>"}
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    spoofed = requests.get(web.url + API, headers={"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"},
                           timeout=10)
    assert spoofed.status_code == 401
    wrong = requests.get(web.url + API, headers={"Authorization": "Bearer not-the-token"}, timeout=10)
    assert (wrong.status_code, wrong.json()) == (401, {"error": "missing or wrong bearer token"})


def test_the_api_answers_the_bearer_token(web):
    answer = requests.get(web.url + API, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert (answer.status_code, answer.json()) == (200, {"key_results": []})
    metrics = requests.get(web.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert metrics.status_code == 200 and "okrbot_deliveries_total" in metrics.text


def test_probes_and_webhooks_need_no_sign_in(web):
    assert requests.get(web.url + "/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(web.url + "/readyz", timeout=10).status_code == 200
    body = as_body("github/issues/octokit-webhooks__opened.payload.json")
    signed = requests.post(web.url + "/webhooks/github", data=body, headers=github_headers(body, "issues"),
                           timeout=10)
    assert signed.status_code == 202  # stored: no CSRF token asked of a signed delivery, no sign-in
    forged = requests.post(web.url + "/webhooks/github", data=body, timeout=10,
                           headers=github_headers(body, "issues", secret="not-the-secret"))
    assert forged.status_code == 401


# --- forms: CSRF, token sign-in, cookies ----------------------------------------------------------

def test_a_form_posted_without_its_csrf_token_is_refused(web):
    with requests.Session() as http:
        http.get(f"{web.url}/login", timeout=10)  # the session cookie the token would be bound to
        answer = http.post(f"{web.url}/login", data={"token": TOKEN, "next": "/account"}, allow_redirects=False,
                           timeout=10)
        assert answer.status_code == 400
        assert "The CSRF token is missing." in answer.text
        forged = http.post(f"{web.url}/login", data={"token": TOKEN, "csrf_token": "forged"}, allow_redirects=False,
                           timeout=10)
        assert forged.status_code == 400 and "The CSRF token is invalid." in forged.text
        assert http.get(web.url + API, timeout=10).status_code == 401  # not signed in by either


def test_token_sign_in_sets_a_session_cookie_httponly_lax_not_secure_over_http(web):
    with requests.Session() as http:
        answer = sign_in_with_token(http, web.url, headers={"X-Forwarded-Proto": "https"})  # no proxy trusted
        assert (answer.status_code, answer.headers["Location"]) == (302, "/account")
        cookie = answer.headers["Set-Cookie"]
        assert cookie.startswith("okrbot_session=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        assert "Strict-Transport-Security" not in answer.headers
        assert http.get(web.url + API, timeout=10).status_code == 200  # either gunicorn worker reads it


def test_secure_cookie_over_https_only_through_a_trusted_proxy(web_behind_proxy):
    with requests.Session() as http:
        # over https flask-wtf also checks that the form came from this site, as a browser's Referer says
        https_here = web_behind_proxy.url.replace("http://", "https://")
        answer = sign_in_with_token(http, web_behind_proxy.url,
                                    headers={"X-Forwarded-Proto": "https", "Referer": https_here + "/login"})
        assert answer.status_code == 302
        assert "Secure" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]
        assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    with requests.Session() as http:
        plain = sign_in_with_token(http, web_behind_proxy.url)
        assert plain.status_code == 302 and "Secure" not in plain.headers["Set-Cookie"]


def test_logout_needs_its_csrf_token_and_ends_the_session(web):
    with requests.Session() as http:
        sign_in_with_token(http, web.url)
        account = http.get(f"{web.url}/account", timeout=10)
        assert http.post(f"{web.url}/logout", allow_redirects=False, timeout=10).status_code == 400
        assert http.get(web.url + API, timeout=10).status_code == 200
        out = http.post(f"{web.url}/logout", data={"csrf_token": csrf_token(account.text)}, allow_redirects=False,
                        timeout=10)
        assert (out.status_code, out.headers["Location"]) == (302, "/login")
        assert http.get(web.url + API, timeout=10).status_code == 401


def test_security_headers_on_every_answer(web):
    for path in ("/login", API, "/healthz", "/", "/no-such-page"):
        headers = requests.get(web.url + path, allow_redirects=False, timeout=10).headers
        csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert csp["script-src"] == csp["style-src"] == csp["default-src"] == "'self'", path
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["Cache-Control"] == "no-store", path


def test_after_sign_in_only_a_local_path_is_followed(web):
    with requests.Session() as http:
        form = http.get(f"{web.url}/login?next=https://evil.example/steal", timeout=10)
        assert 'name="next" value="/"' in form.text
        answer = http.post(f"{web.url}/login", allow_redirects=False, timeout=10,
                           data={"csrf_token": csrf_token(form.text), "token": TOKEN, "next": "//evil.example"})
        assert (answer.status_code, answer.headers["Location"]) == (302, "/")


# --- GitHub sign-in over HTTP: the rules -----------------------------------------------------------

def test_github_sign_in_admits_a_listed_login_and_refuses_a_pending_member(web, github):
    with requests.Session() as http:
        answer = sign_in_with_github(http, web.url, "dave")
        assert (answer.status_code, answer.headers["Location"]) == (302, "/account")
        assert "Signed in as <strong class=\"who\">dave</strong>" in http.get(f"{web.url}/account", timeout=10).text
    with requests.Session() as http:
        answer = sign_in_with_github(http, web.url, "pat")  # invited to acme, not yet a member
        assert answer.status_code == 403 and "pat is not a member" in answer.text
        assert http.get(web.url + API, timeout=10).status_code == 401


def test_a_forged_callback_is_refused(web):
    with requests.Session() as http:
        http.get(f"{web.url}/login/github", allow_redirects=False, timeout=10)
        answer = http.get(f"{web.url}/login/github/callback?code=abc&state=not-the-state", timeout=10)
        assert answer.status_code == 400 and "GitHub sign-in did not complete" in answer.text
        assert http.get(web.url + API, timeout=10).status_code == 401


def test_no_token_or_secret_reaches_the_log(web, github):
    with requests.Session() as http:
        sign_in_with_token(http, web.url, token="a-wrong-token-typed-by-someone")
        sign_in_with_token(http, web.url)
        requests.get(web.url + API, headers={"Authorization": "Bearer a-wrong-bearer-token"}, timeout=10)
    with requests.Session() as http:
        sign_in_with_github(http, web.url, "alice")
    with requests.Session() as http:
        sign_in_with_github(http, web.url, "mallory")
    log = web.log()
    assert "signed in with the API token" in log and "signed in: alice via GitHub (org:acme)" in log
    assert "GitHub sign-in refused for mallory" in log and "sign-in with the API token refused" in log
    secrets = [TOKEN, SECRET_KEY, CLIENT_SECRET, "a-wrong-token-typed-by-someone", "a-wrong-bearer-token",
               *github.issued]
    assert len(github.issued) >= 4  # codes and access tokens were handed out, and are looked for
    assert [s for s in secrets if s in log] == []


# --- in the browser --------------------------------------------------------------------------------

def test_an_anonymous_visitor_is_sent_to_login(web, page):
    page.goto(web.url + "/")
    assert page.url == web.url + "/login?next=/"
    assert page.locator("h2").inner_text() == "Sign in"
    page.goto(web.url + "/account")
    assert page.url == web.url + "/login?next=/account"
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "login.png"), full_page=True)


def test_token_sign_in_in_the_browser_and_a_wrong_token_refused(web, page):
    page.goto(web.url + "/account")
    page.fill("#token", "not-the-token")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("text=Sign in with the API token")
    assert posted.value.status == 401
    assert page.locator("[role=alert]").inner_text() == "That is not this okrbot's API token."
    assert page.request.get(web.url + API).status == 401
    page.fill("#token", TOKEN)
    page.click("text=Sign in with the API token")
    page.wait_for_url(web.url + "/account")
    assert page.locator(".who").inner_text() == "API token"
    assert page.request.get(web.url + API).status == 200
    cookie = next(c for c in page.context.cookies() if c["name"] == "okrbot_session")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Lax", False)
    page.click("text=Sign out")
    page.wait_for_url(web.url + "/login")
    assert page.request.get(web.url + API).status == 401


def test_github_sign_in_admits_an_allowed_orgs_member(web, github, page):
    page.goto(web.url + "/account")
    page.click("text=Sign in with GitHub")
    assert page.url.startswith(github.base + "/login/oauth/authorize?")
    authorize = github.requests_to("/login/oauth/authorize")[-1].query
    assert (authorize["scope"], authorize["code_challenge_method"]) == ("read:org", "S256")
    assert authorize["redirect_uri"] == web.url + "/login/github/callback"
    page.click("text=alice")
    page.wait_for_url(web.url + "/account")
    assert page.locator(".who").inner_text() == "alice"
    assert page.request.get(web.url + API).status == 200
    token_of_alice = [t for t, login in github.tokens.items() if login == "alice"][-1]  # the newest
    checks = github.requests_to("/user/memberships/orgs/acme")
    assert checks and checks[-1].authorization == f"Bearer {token_of_alice}"  # the user's own token


def test_github_sign_in_refuses_an_outsider(web, github, page):
    page.goto(web.url + "/account")
    page.click("text=Sign in with GitHub")
    with page.expect_response(lambda r: "/login/github/callback" in r.url) as callback:
        page.click("text=mallory")
    assert callback.value.status == 403
    assert "mallory is not a member of an organisation allowed here" in page.locator("[role=alert]").inner_text()
    assert page.request.get(web.url + API).status == 401
    page.goto(web.url + "/account")
    assert page.url == web.url + "/login?next=/account"
