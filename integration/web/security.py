"""What every response and cookie carries: security headers, the session cookie's flags, CSRF, the proxy.

`harden(app, settings, secret_key)` is called once by `create_app`; nothing here decides who may see
what (that is `access.py`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from webhooks.receiver import GITHUB_PATH, JIRA_PATH, github_blueprint, jira_blueprint

from ..config import PREFIX, ConfigError, Settings

SESSION_COOKIE = "okrbot_session"
# No inline script or style, no plugins, no framing: the pages and charts style through their own
# stylesheets and SVG presentation attributes (integration/charts/svg.py).
CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "same-origin",  # no page address (nor an OAuth code) leaks to another site
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000"  # only on https answers: a browser ignores it over http anyway
WEBHOOK_PATHS = frozenset((GITHUB_PATH, JIRA_PATH))  # posted by the trackers, never by a browser


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over https.

    Its signer is built once per key, not per request (Flask builds a new one for each); the webhooks,
    which no browser posts, get no session at all (Flask's null session: nothing read, nothing set).
    """

    def __init__(self) -> None:
        self._signer: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._signer
        if cached is None or cached[0] != keys:
            cached = self._signer = (keys, super().get_signing_serializer(app))
        return cached[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path in WEBHOOK_PATHS:
            return None
        return super().open_session(app, request)


def harden(app: Flask, settings: Settings, secret_key: bytes) -> CSRFProtect:
    app.secret_key = secret_key
    lifetime = timedelta(hours=settings.session_hours)
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=lifetime,  # Flask refuses a session cookie signed longer ago than this
        WTF_CSRF_TIME_LIMIT=int(lifetime.total_seconds()),  # a page open all day can still sign out
    )
    app.session_interface = _SessionCookies()
    if settings.trust_proxy:
        # One proxy in front: its X-Forwarded-For/-Proto/-Host/-Port are believed, anyone else's are not.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
    csrf = CSRFProtect(app)
    for blueprint in (github_blueprint, jira_blueprint):  # signed with the tracker's HMAC, posted by no browser
        csrf.exempt(blueprint)
    app.after_request(_headers)
    return csrf


# (lower-case name, name, value): an answer's header names are read once, and the missing ones added,
# since each `name in headers` of Werkzeug's that misses raises and catches a KeyError inside.
_DEFAULTS = tuple((name.lower(), name, value) for name, value in HEADERS.items())


def _headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name, _value in headers}
    for lower, name, value in _DEFAULTS:
        if lower not in present:
            headers.add(name, value)
    if request.is_secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", HSTS)
    if "cache-control" not in present:  # static files set their own
        headers.add("Cache-Control", "no-store")  # key results behind sign-in stay out of shared caches
    if "vary" in present:
        response.vary.add("Cookie")
    else:
        headers.add("Vary", "Cookie")
    return response


def session_secret(settings: Settings, open_to_loopback: bool) -> bytes:
    """The key that signs sessions and CSRF tokens.

    Under gunicorn several processes must share it, and sessions must outlive a restart, so with any
    sign-in set up it must be configured; otherwise (and under `okrbot serve`) this process makes its own.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    if not open_to_loopback and (settings.api_token or settings.github_client_id):
        raise ConfigError(f"{PREFIX}SECRET_KEY: needed to sign sign-in sessions when {PREFIX}API_TOKEN or GitHub "
                          "sign-in is set and the app is not `okrbot serve` on loopback (gunicorn: the Procfile); "
                          "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return secrets.token_bytes(32)
