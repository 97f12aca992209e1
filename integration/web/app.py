"""The Flask app factory: `create_app(config=None)`."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from webhooks.receiver import github_blueprint, jira_blueprint

from ..config import Settings, load_settings, settings_from_mapping, warn_unknown_settings
from ..db import ping
from ..jobs.queue import queue_ping
from ..logs import configure_logging
from ..runtime import Runtime, build_runtime
from .api import api
from .pages import pages

log = logging.getLogger("okrbot")


def create_app(config: dict | Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the app from OKRBOT_* variables; `config` (attribute names of Settings) overrides them."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = settings_from_mapping(load_settings(), config or {})
    configure_logging(settings.log_level)
    if not isinstance(config, Settings):  # a caller that passes Settings loaded them, and told, itself
        warn_unknown_settings(settings)
    rt = runtime or build_runtime(settings)
    app = Flask("okrbot")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["okrbot"] = rt
    app.register_blueprint(github_blueprint)
    app.register_blueprint(jira_blueprint)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    _register_probes(app, rt)
    announce(settings)
    return app


def announce(settings: Settings) -> None:
    if settings.insecure_accept_unsigned:
        log.warning("!!! OKRBOT_INSECURE_ACCEPT_UNSIGNED=1: deliveries without a configured secret are "
                    "accepted UNVERIFIED. For local trials only; never expose this instance. !!!")
    for tracker, secrets in (("github", settings.github_webhook_secrets),
                             ("jira", settings.jira_webhook_secrets)):
        if not secrets and not settings.insecure_accept_unsigned:
            log.warning("no OKRBOT_%s_WEBHOOK_SECRET: every %s delivery will be refused with 401",
                        tracker.upper(), tracker)


def _register_probes(app: Flask, rt: Runtime) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
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

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(rt.metrics.registry), mimetype=CONTENT_TYPE_LATEST)
