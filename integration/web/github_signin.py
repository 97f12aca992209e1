"""Sign-in with GitHub (OAuth 2 web flow through Authlib), for members of OKRBOT_ALLOWED_ORGS or the
logins in OKRBOT_ALLOWED_USERS.

Works with an OAuth app or with a GitHub App's user-authorisation credentials (its client id and
secret); the callback URL to register is `https://<okrbot>/login/github/callback`. Who may enter is
checked with the signed-in user's own token, which is then dropped: it is neither stored nor logged.
- `GET /user` gives the login (no scope needed).
- `GET /user/memberships/orgs/{org}` says whether that user is an active member, private membership
  included. An OAuth app needs the `read:org` scope for it (asked for only when OKRBOT_ALLOWED_ORGS is
  set); a GitHub App needs the "Members" organisation permission (read).
  https://docs.github.com/en/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for

from ..config import Settings
from .access import VIA_GITHUB, log_refusal, public, safe_next, sign_in

log = logging.getLogger("okrbot.web")
github_signin = Blueprint("github_signin", __name__)
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
_NEXT = "signin_next"


def register(app: Flask, settings: Settings) -> None:
    app.register_blueprint(github_signin)
    if not settings.github_client_id:
        return
    oauth = OAuth(app)
    # client id and secret as form fields, as GitHub documents; PKCE on top of the state
    kwargs = {"code_challenge_method": "S256", "token_endpoint_auth_method": "client_secret_post",
              "default_timeout": settings.tracker_timeout_seconds}
    if settings.allowed_orgs:
        kwargs["scope"] = "read:org"
    oauth.register("github", client_id=settings.github_client_id, client_secret=settings.github_client_secret,
                   authorize_url=f"{settings.github_url}/login/oauth/authorize",
                   access_token_url=f"{settings.github_url}/login/oauth/access_token",
                   api_base_url=settings.github_api_url + "/", client_kwargs=kwargs)


def _client():
    oauth = current_app.extensions.get("authlib.integrations.flask_client")
    if oauth is None:
        abort(404)  # GitHub sign-in is not set up here
    return oauth.github


@github_signin.get("/login/github")
@public
def start():
    client = _client()
    session[_NEXT] = safe_next(request.args.get("next"))
    return client.authorize_redirect(url_for("github_signin.callback", _external=True))


@github_signin.get("/login/github/callback")
@public
def callback():
    client = _client()
    settings: Settings = current_app.extensions["okrbot"].settings
    try:
        token = client.authorize_access_token()
        login, rule = admitting_rule(client, token, settings)
    except OAuthError as exc:  # refused on GitHub, a stale or forged state, an expired code
        log_refusal("GitHub sign-in did not complete: %s", exc.error)
        return _refused("GitHub sign-in did not complete", f"GitHub answered: {exc.error}. Try again.", 400)
    except requests.RequestException as exc:
        log.warning("GitHub sign-in: GitHub did not answer (%s)", type(exc).__name__)
        return _refused("GitHub did not answer", "GitHub could not be reached to sign you in. Try again.", 502)
    if rule is None:
        log_refusal("GitHub sign-in refused for %s: not in OKRBOT_ALLOWED_ORGS or OKRBOT_ALLOWED_USERS", login)
        return _refused("Not admitted", f"{login} is not a member of an organisation allowed here, nor "
                        "an allowed login. Ask this okrbot's operator.", 403)
    next_ = session.get(_NEXT, "/")
    sign_in(login, VIA_GITHUB, rule)
    log.info("signed in: %s via GitHub (%s)", login, rule)
    return redirect(next_)


def admitting_rule(client, token: dict, settings: Settings) -> tuple[str, str | None]:
    """The user's login, and the rule that admits them (`user:<login>`, `org:<org>`) or None."""
    user = client.get("user", token=token, headers=API_HEADERS)
    user.raise_for_status()
    login = user.json()["login"]
    for allowed in settings.allowed_users:
        if allowed.lower() == login.lower():
            return login, f"user:{allowed}"
    for org in settings.allowed_orgs:
        membership = client.get(f"user/memberships/orgs/{quote(org)}", token=token, headers=API_HEADERS)
        if membership.status_code in (403, 404):  # not a member, or the org has not approved this app
            continue
        membership.raise_for_status()
        if membership.json().get("state") == "active":  # "pending": invited, not yet a member
            return login, f"org:{org}"
    return login, None


def _refused(title: str, message: str, status: int):
    return render_template("signin/refused.html", title=title, message=message), status
