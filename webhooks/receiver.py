"""HTTP in: `POST /webhooks/github` and `POST /webhooks/jira`.

The receiver only verifies, stores and answers (octokit/webhooks' fixed outcomes): 415 wrong type,
413 too large, 401 bad signature, 400 malformed, 204 an event okrbot deliberately does not use,
200 ping or duplicate, 202 stored and queued, 503 database unreachable. Parsing happens in the worker.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from . import github, jira
from .decode import check_content_type, decode_body
from .errors import PayloadError, SignatureError, TooLargeError, WebhookError
from .inbox import IncomingDelivery
from .signatures import verify

log = logging.getLogger("okrbot.webhooks")

# Headers kept with the stored body: what processing, replay and debugging need later.
KEPT_HEADERS = ("Content-Type", "User-Agent", "X-GitHub-Event", "X-GitHub-Delivery",
                "X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-ID",
                "X-GitHub-Hook-Installation-Target-Type", "X-Atlassian-Webhook-Identifier",
                "X-Atlassian-Webhook-Retry")


@dataclass
class Outcome:
    status: int
    name: str
    body: dict | None
    event: str = "-"
    action: str | None = None
    delivery_id: str = "-"


def _runtime():
    return current_app.extensions["okrbot"]


def _read_body(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise TooLargeError(f"body of {request.content_length} bytes exceeds the limit of {limit}")
    try:
        return request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH, streamed bodies too
    except RequestEntityTooLarge:
        raise TooLargeError(f"body exceeds the limit of {limit} bytes") from None


def _verify(tracker: str, body: bytes, header_name: str, secrets: tuple[str, ...]) -> None:
    rt = _runtime()
    if not secrets:
        if rt.settings.insecure_accept_unsigned:
            return
        raise SignatureError(f"no webhook secret configured for {tracker}: set "
                             f"OKRBOT_{tracker.upper()}_WEBHOOK_SECRET; every delivery is refused")
    verify(body, header_name, request.headers.get(header_name), secrets)


def _kept_headers() -> dict:
    return {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}


def _store(tracker: str, delivery_id: str, event: str, action: str | None, body: bytes) -> Outcome:
    rt = _runtime()
    incoming = IncomingDelivery(tracker, delivery_id, event, action, _kept_headers(), body,
                                datetime.now(UTC))
    try:
        stored = rt.inbox.store(incoming)
    except SQLAlchemyError as exc:
        log.error("database unavailable, delivery %s refused with 503: %s", delivery_id,
                  type(exc).__name__)
        return Outcome(503, "unavailable", {"error": "database unavailable, retry later"})
    if stored is None:
        return Outcome(200, "duplicate", {"status": "duplicate"})
    rt.doorbell.ring(stored)
    return Outcome(202, "accepted", {"status": "accepted", "delivery": delivery_id})


def _github() -> Outcome:
    rt = _runtime()
    kind = check_content_type(request.headers.get("Content-Type"), allow_form=True)
    body = _read_body(rt.settings.max_body_bytes)
    _verify("github", body, "X-Hub-Signature-256", rt.settings.github_webhook_secrets)
    event = request.headers.get("X-GitHub-Event", "").strip()
    delivery_id = request.headers.get("X-GitHub-Delivery", "").strip()
    if not event:
        raise PayloadError("missing X-GitHub-Event header")
    if not delivery_id:
        raise PayloadError("missing X-GitHub-Delivery header")
    payload = decode_body(body, kind)
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    if event == "ping":
        return Outcome(200, "ping", {"status": "pong", "zen": payload.get("zen")}, event, action, delivery_id)
    if not github.is_used(event, action):
        return Outcome(204, "ignored", None, event, action, delivery_id)
    outcome = _store("github", delivery_id, event, action, body)
    outcome.event, outcome.action, outcome.delivery_id = event, action, delivery_id
    return outcome


def _jira() -> Outcome:
    rt = _runtime()
    check_content_type(request.headers.get("Content-Type"), allow_form=False)
    body = _read_body(rt.settings.max_body_bytes)
    _verify("jira", body, "X-Hub-Signature", rt.settings.jira_webhook_secrets)
    payload = decode_body(body, "application/json")
    event = payload.get("webhookEvent")
    if not isinstance(event, str) or not event:
        raise PayloadError("body has no webhookEvent")
    # Jira Server/Data Center sends no identifier; the body itself then identifies the delivery.
    delivery_id = (request.headers.get("X-Atlassian-Webhook-Identifier", "").strip()
                   or "sha256:" + hashlib.sha256(body).hexdigest())
    action = payload.get("issue_event_type_name") if isinstance(payload.get("issue_event_type_name"), str) else None
    if not jira.is_used(event):
        return Outcome(204, "ignored", None, event, action, delivery_id)
    outcome = _store("jira", delivery_id, event, action, body)
    outcome.event, outcome.action, outcome.delivery_id = event, action, delivery_id
    return outcome


def _answer(tracker: str, handler) -> Response:
    started = time.perf_counter()
    try:
        outcome = handler()
    except WebhookError as exc:
        outcome = Outcome(exc.status, type(exc).__name__, {"error": exc.message})
        if isinstance(exc, SignatureError):
            log.warning("%s delivery refused: %s", tracker, exc.message)
    ms = (time.perf_counter() - started) * 1000
    _runtime().metrics.delivery(tracker, outcome.event, outcome.name)
    log.info("delivery id=%s tracker=%s event=%s action=%s outcome=%s status=%d ms=%.1f",
             outcome.delivery_id, tracker, outcome.event, outcome.action or "-", outcome.name,
             outcome.status, ms)
    if outcome.body is None:
        return Response(status=outcome.status)
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    return response


github_blueprint = Blueprint("github_webhooks", __name__)
jira_blueprint = Blueprint("jira_webhooks", __name__)


@github_blueprint.post("/webhooks/github")
def receive_github():
    return _answer("github", _github)


@jira_blueprint.post("/webhooks/jira")
def receive_jira():
    return _answer("jira", _jira)
