"""Every answer carries the security headers once: pages, the API, probes, static files and the
webhooks' answers alike (what a browser, a proxy and a scanner read)."""

from __future__ import annotations

from flask import Response

from integration.web.security import CSP, HSTS

OPENED = "github/issues/octokit-webhooks__opened.payload.json"
EXPECTED = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _once(response, name: str) -> str:
    values = response.headers.getlist(name)
    assert len(values) == 1, (name, values)
    return values[0]


def _security(response) -> dict[str, str]:
    return {name: _once(response, name) for name in EXPECTED}


def test_webhook_answers_carry_them(post_github, client):
    accepted = post_github(OPENED)
    assert accepted.status_code == 202
    refused = post_github(OPENED, secret="not-the-secret")
    assert refused.status_code == 401
    for response in (accepted, refused):
        assert _security(response) == EXPECTED
        assert (_once(response, "Cache-Control"), _once(response, "Vary")) == ("no-store", "Cookie")
        assert "Strict-Transport-Security" not in response.headers  # plain http


def test_pages_probes_and_the_api_carry_them_and_https_adds_hsts(client):
    for path in ("/", "/healthz", "/api/v1/key-results", "/no-such-page"):
        response = client.get(path)
        assert _security(response) == EXPECTED, path
        assert (_once(response, "Cache-Control"), _once(response, "Vary")) == ("no-store", "Cookie"), path
    secure = client.get("/healthz", base_url="https://okrbot.example")
    assert _once(secure, "Strict-Transport-Security") == HSTS


def test_a_view_s_own_cache_control_and_vary_are_kept(app):
    @app.get("/test-own-headers")
    def own():
        return Response("x", headers={"Cache-Control": "max-age=60", "Vary": "Accept-Encoding",
                                      "X-Frame-Options": "SAMEORIGIN"})

    response = app.test_client().get("/test-own-headers")
    assert _once(response, "Cache-Control") == "max-age=60"
    assert _once(response, "Vary") == "Accept-Encoding, Cookie"
    assert _once(response, "X-Frame-Options") == "SAMEORIGIN"  # a view that sets one keeps it
    assert _once(response, "Content-Security-Policy") == CSP


def test_static_files_keep_their_caching(client):
    response = client.get("/static/pages/pages.css")
    assert response.status_code == 200
    assert _once(response, "Cache-Control") != "no-store"
    assert _security(response) == EXPECTED
