"""Signing in and out: `/login` (the form, and sign-in with the API token), `/logout`, `/account`.

GitHub sign-in has its own module (`github_signin.py`); the policy that sends visitors here is
`access.py`. Every form carries a CSRF token (flask-wtf's CSRFProtect, installed by `security.py`).
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from .access import VIA_TOKEN, access, log_refusal, loopback_admits, public, safe_next, sign_in, sign_out, signed_in

log = logging.getLogger("okrbot.web")
signin = Blueprint("signin", __name__, template_folder="templates", static_folder="static/signin",
                   static_url_path="/signin/static")


def _settings():
    return current_app.extensions["okrbot"].settings


def _login_page(next_: str, error: str | None = None, status: int = 200):
    settings = _settings()
    return render_template("signin/login.html", next=next_, error=error, who=signed_in(),
                           token_sign_in=bool(settings.api_token), github_sign_in=bool(settings.github_client_id),
                           open_here=loopback_admits()), status


@signin.get("/login")
@public
def login():
    return _login_page(safe_next(request.args.get("next")))


@signin.post("/login")
@public
def login_with_token():
    token = _settings().api_token
    next_ = safe_next(request.form.get("next"))
    if not token:
        return _login_page(next_, "Sign-in with the API token is not set up here (OKRBOT_API_TOKEN).", 400)
    given = request.form.get("token", "").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        log_refusal("sign-in with the API token refused: wrong token")
        return _login_page(next_, "That is not this okrbot's API token.", 401)
    sign_in("API token", VIA_TOKEN, "token")
    log.info("signed in with the API token (from %s)", request.remote_addr)
    return redirect(next_)


@signin.post("/logout")
@public  # signing out needs no sign-in; the CSRF token keeps other sites from doing it for you
def logout():
    sign_out()
    return redirect(url_for("signin.login"))


@signin.get("/account")
def account():
    return render_template("signin/account.html", who=signed_in(),
                           open_here=access().open_to_loopback and loopback_admits())


@signin.app_errorhandler(CSRFError)
def csrf_refused(error: CSRFError):
    return render_template("signin/refused.html", title="Form refused",
                           message=f"{error.description} Reload the page and send the form again."), 400
