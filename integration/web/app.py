"""The Flask app factory: `create_app(config=None)`."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from webhooks.receiver import github_blueprint, jira_blueprint

from ..config import Settings, load_settings, settings_from_mapping, warn_open_scope, warn_unknown_settings
from ..db import ping
from ..jobs.queue import queue_ping
from ..logs import configure_logging
from ..runtime import Runtime, build_runtime
from . import access, github_signin, security
from .api import api
from .pages import pages
from .signin import signin

log = logging.getLogger("okrbot")


def create_app(config: dict | Settings | None = None, runtime: Runtime | None = None, *,
               open_to_loopback: bool = False) -> Flask:
    """Build the app from OKRBOT_* variables; `config` (attribute names of Settings) overrides them.

    Every page and API call needs the API token or a signed-in session (integration/web/access.py),
    as under gunicorn, which calls `create_app()`. `open_to_loopback=True` (`okrbot serve` on a
    loopback address) also admits requests from loopback while OKRBOT_API_TOKEN is unset."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = settings_from_mapping(load_settings(), config or {})
    configure_logging(settings.log_level)
    if not isinstance(config, Settings):  # a caller that passes Settings loaded them, and told, itself
        warn_unknown_settings(settings)
    secret_key = security.session_secret(settings, open_to_loopback)  # before any work: a start error
    rt = runtime or build_runtime(settings)
    app = Flask("okrbot")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["okrbot"] = rt
    app.register_blueprint(github_blueprint)
    app.register_blueprint(jira_blueprint)
    security.harden(app, settings, secret_key)
    access.install(app, access.Access(open_to_loopback=open_to_loopback))
    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.register_blueprint(signin)
    github_signin.register(app, settings)
    _register_probes(app, rt)
    announce(settings, open_to_loopback)
    return app


def announce(settings: Settings, open_to_loopback: bool = False) -> None:
    warn_open_scope(settings)
    if settings.insecure_accept_unsigned:
        log.warning("!!! OKRBOT_INSECURE_ACCEPT_UNSIGNED=1: deliveries without a configured secret are "
                    "accepted UNVERIFIED. For local trials only; never expose this instance. !!!")
    for tracker, secrets in (("github", settings.github_webhook_secrets),
                             ("jira", settings.jira_webhook_secrets)):
        if not secrets and not settings.insecure_accept_unsigned:
            log.warning("no OKRBOT_%s_WEBHOOK_SECRET: every %s delivery will be refused with 401",
                        tracker.upper(), tracker)
    if not open_to_loopback and not access.admits_signed_in_pages(settings):
        log.warning("no OKRBOT_API_TOKEN and no GitHub sign-in: the pages and the API refuse every request "
                    "(the webhooks and probes still answer)")


def _register_probes(app: Flask, rt: Runtime) -> None:
    @app.get("/healthz")
    @access.public  # load balancers probe without credentials
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    @access.public
    def readyz():
        problems = {}
        for name, check in (("database", lambda: ping(rt.engine)), ("queue", lambda: queue_ping(rt.huey))):
            try:
                check()
            except Exception as exc:  # reported, not raised: this endpoint's answer is the report
                problems[name] = f"unreachable ({type(exc).__name__})"
        if problems:
            return jsonify(status="unavailable", **problems), 503
        return jsonify(status="ok", database="ok", queue="ok")

    @app.get("/metrics")  # guarded like the API: a scraper sends the bearer token
    def metrics():
        return Response(generate_latest(rt.metrics.registry), mimetype=CONTENT_TYPE_LATEST)
