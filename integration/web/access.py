"""Who may see what: one policy for every page and every API call, checked before any view runs.

- Open to all: the webhooks (signed with the tracker's HMAC), the probes, the sign-in pages, static
  files. A view says so with `@public`; everything else, including pages registered later by other
  blueprints, is guarded.
- `Authorization: Bearer <OKRBOT_API_TOKEN>` is admitted; any other Authorization header is refused.
- A signed-in session (GitHub or the API token, see `signin.py`) is admitted.
- Open to loopback (`okrbot serve` on a loopback address, OKRBOT_API_TOKEN unset): requests from
  127.0.0.1 / ::1 are admitted. Under gunicorn there is no such exception: a reverse proxy on the same
  machine makes every request come from loopback.
- Refused: the API and /metrics answer 401 JSON (403 from another machine when open to loopback);
  a page redirects to /login?next=<where the visitor was going>.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from hashlib import sha256
from ipaddress import ip_address
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for

from webhooks.receiver import github_blueprint, jira_blueprint

from ..config import Settings

log = logging.getLogger("okrbot.web")
PUBLIC_BLUEPRINTS = frozenset((github_blueprint.name, jira_blueprint.name))
MACHINE_PATHS = ("/api/", "/metrics")  # read by scripts and scrapers: a status code, never a redirect
_PUBLIC = "_okrbot_public"
VIA_GITHUB, VIA_TOKEN = "github", "token"


@dataclass(frozen=True)
class Access:
    """How this app was started: `open_to_loopback` only under `okrbot serve` on a loopback address."""

    open_to_loopback: bool


def public(view):
    """Mark a view as open to anyone (probes, sign-in); every other view needs the policy above."""
    setattr(view, _PUBLIC, True)
    return view


def install(app: Flask, access: Access) -> None:
    app.extensions["okrbot.access"] = access
    app.before_request(_guard)
    app.context_processor(lambda: {"signed_in_as": g.get("signed_in_as")})


def access() -> Access:
    return current_app.extensions["okrbot.access"]


def _settings() -> Settings:
    return current_app.extensions["okrbot"].settings


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ip_address(address).is_loopback
    except ValueError:
        return False


def loopback_admits() -> bool:
    """Whether this request passes without sign-in: open to loopback, no token set, from loopback."""
    return access().open_to_loopback and not _settings().api_token and is_loopback(request.remote_addr)


def _is_public() -> bool:
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: guarded too, so that an anonymous visitor learns nothing
        return False
    if request.blueprint in PUBLIC_BLUEPRINTS or endpoint == "static" or endpoint.endswith(".static"):
        return True
    return getattr(current_app.view_functions.get(endpoint), _PUBLIC, False)


def _guard():
    if _is_public():
        return None
    settings = _settings()
    given = request.headers.get("Authorization")
    if given is not None:
        if settings.api_token and hmac.compare_digest(given.encode(), f"Bearer {settings.api_token}".encode()):
            g.signed_in_as = "API token"
            return None
        return _refuse("missing or wrong bearer token")
    who = signed_in()
    if who is not None:
        g.signed_in_as = who
        return None
    if loopback_admits():
        return None
    if access().open_to_loopback and not settings.api_token and request.path.startswith(MACHINE_PATHS):
        return jsonify(error="set OKRBOT_API_TOKEN to answer requests from other machines"), 403
    return _refuse("sign in, or send Authorization: Bearer <OKRBOT_API_TOKEN>")


def _refuse(reason: str):
    if request.path.startswith(MACHINE_PATHS) or request.method not in ("GET", "HEAD"):
        return jsonify(error=reason), 401, {"WWW-Authenticate": "Bearer"}
    return redirect(url_for("signin.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (no open redirect to another host)."""
    if not target or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


# The session (a signed cookie: readable by its owner, unforgeable without OKRBOT_SECRET_KEY).
# It holds who signed in, how, and by which rule, so that a rule removed from the settings, or a
# changed API token, ends the sessions it admitted.

def sign_in(who: str, via: str, admitted_by: str) -> None:
    session.clear()
    session.update(who=who, via=via, by=admitted_by)
    if via == VIA_TOKEN:
        session["mark"] = _token_mark()


def sign_out() -> None:
    session.clear()


def signed_in() -> str | None:
    who, via, by = session.get("who"), session.get("via"), session.get("by", "")
    if not isinstance(who, str) or not isinstance(by, str):
        return None
    settings = _settings()
    if via == VIA_TOKEN:
        still = bool(settings.api_token) and hmac.compare_digest(str(session.get("mark", "")), _token_mark())
    elif via == VIA_GITHUB and settings.github_client_id:
        kind, _, name = by.partition(":")
        names = settings.allowed_orgs if kind == "org" else settings.allowed_users if kind == "user" else ()
        still = name.lower() in {n.lower() for n in names}
    else:
        still = False
    return who if still else None


def _token_mark() -> str:
    token = _settings().api_token or ""
    return hmac.new(current_app.secret_key, token.encode(), sha256).hexdigest()[:32]


def admits_signed_in_pages(settings: Settings) -> bool:
    return bool(settings.api_token or settings.github_client_id)


def log_refusal(what: str, *args) -> None:
    """A refused sign-in, with the remote address; never the token or code that was offered."""
    log.warning(what + " (from %s)", *args, request.remote_addr)
