"""HTTP in: `POST /webhooks/github` and `POST /webhooks/jira`.

The receiver only verifies, stores and answers (octokit/webhooks' fixed outcomes): 415 wrong type,
413 too large, 401 bad signature, 400 malformed, 204 an event okrbot deliberately does not use,
200 ping or duplicate, 202 stored and queued, 503 database unreachable. Parsing happens in the worker.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from . import github, jira
from .bounds import ACTION_CHARS, DELIVERY_ID_CHARS, EVENT_CHARS, NOT_READ, bounded, metrics_label, single_header
from .decode import check_content_type, decode_body
from .errors import PayloadError, SignatureError, TooLargeError, WebhookError
from .inbox import InboxUnavailable, IncomingDelivery
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
    event: str = NOT_READ
    action: str | None = None
    delivery_id: str = "-"


def _wsgi_key(name: str) -> str:
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key


# Header lookups straight from the WSGI environ: this is the hot path, and a case-insensitive
# Headers lookup per name costs more than the rest of the request's own work.
_KEPT = tuple((name, _wsgi_key(name)) for name in KEPT_HEADERS)


def _header(environ: dict, name: str) -> str:
    return environ.get(_wsgi_key(name), "").strip()


def _read_body(environ: dict, limit: int) -> bytes:
    """The body, at most `limit` bytes (413 beyond), whole (400 when it ends before its length)."""
    length = request.content_length
    if length is None and environ.get("wsgi.input_terminated"):
        # chunked, no Content-Length: the server ends the stream. Werkzeug's own guard would cut
        # the body at the limit without a word, so it is read here, one byte past the limit.
        body = _read_at_most(environ["wsgi.input"], limit + 1)
        if len(body) > limit:
            raise TooLargeError(f"body exceeds the limit of {limit} bytes")
        return body
    if length is not None and length > limit:
        raise TooLargeError(f"body of {length} bytes exceeds the limit of {limit}")
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise TooLargeError(f"body exceeds the limit of {limit} bytes") from None
    except ClientDisconnected:  # the development server's word for a body that ended early
        body = b""
    if length is not None and len(body) < length:
        raise PayloadError(f"body ended before its Content-Length of {length} bytes")
    return body


def _read_at_most(stream, size: int, chunk: int = 64 * 1024) -> bytes:
    parts, left = [], size
    while left > 0 and (part := stream.read(min(chunk, left))):
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _verify(rt, environ: dict, tracker: str, body: bytes, header_name: str, secrets: tuple[str, ...]) -> None:
    if not secrets:
        if rt.settings.insecure_accept_unsigned:
            return
        raise SignatureError(f"no webhook secret configured for {tracker}: set "
                             f"OKRBOT_{tracker.upper()}_WEBHOOK_SECRET; every delivery is refused")
    verify(body, header_name, _header(environ, header_name), secrets)


def _store(rt, environ: dict, tracker: str, delivery_id: str, event: str, action: str | None,
           body: bytes) -> Outcome:
    kept = {name: environ[key] for name, key in _KEPT if key in environ}
    incoming = IncomingDelivery(tracker, delivery_id, event, action, kept, body, datetime.now(UTC))
    try:
        stored = rt.inbox.store(incoming)
    except InboxUnavailable as exc:
        log.error("database unavailable, delivery %s refused with 503: %s", delivery_id, exc)
        return Outcome(503, "unavailable", {"error": "database unavailable, retry later"}, event, action, delivery_id)
    if stored is None:
        return Outcome(200, "duplicate", {"status": "duplicate"}, event, action, delivery_id)
    rt.doorbell.ring(stored)
    return Outcome(202, "accepted", {"status": "accepted", "delivery": delivery_id}, event, action, delivery_id)


def _action(value: object) -> str | None:
    return bounded("action", value, ACTION_CHARS) if isinstance(value, str) else None


def _github(rt, environ: dict) -> Outcome:
    kind = check_content_type(environ.get("CONTENT_TYPE"), allow_form=True)
    body = _read_body(environ, rt.settings.max_body_bytes)
    _verify(rt, environ, "github", body, "X-Hub-Signature-256", rt.settings.github_webhook_secrets)
    event = _header(environ, "X-GitHub-Event")
    delivery_id = _header(environ, "X-GitHub-Delivery")
    if not event:
        raise PayloadError("missing X-GitHub-Event header")
    if not delivery_id:
        raise PayloadError("missing X-GitHub-Delivery header")
    single_header("X-GitHub-Event", event, EVENT_CHARS)
    single_header("X-GitHub-Delivery", delivery_id, DELIVERY_ID_CHARS)
    payload = decode_body(body, kind)
    action = _action(payload.get("action"))
    if event == "ping":
        return Outcome(200, "ping", {"status": "pong", "zen": payload.get("zen")}, event, action, delivery_id)
    if not github.is_used(event, action):
        return Outcome(204, "ignored", None, event, action, delivery_id)
    return _store(rt, environ, "github", delivery_id, event, action, body)


def _jira(rt, environ: dict) -> Outcome:
    check_content_type(environ.get("CONTENT_TYPE"), allow_form=False)
    body = _read_body(environ, rt.settings.max_body_bytes)
    _verify(rt, environ, "jira", body, "X-Hub-Signature", rt.settings.jira_webhook_secrets)
    payload = decode_body(body, "application/json")
    event = payload.get("webhookEvent")
    if not isinstance(event, str) or not event:
        raise PayloadError("body has no webhookEvent")
    bounded("webhookEvent", event, EVENT_CHARS)
    # Jira Server/Data Center sends no identifier; the body itself then identifies the delivery.
    delivery_id = single_header("X-Atlassian-Webhook-Identifier",
                                _header(environ, "X-Atlassian-Webhook-Identifier"), DELIVERY_ID_CHARS)
    delivery_id = delivery_id or "sha256:" + hashlib.sha256(body).hexdigest()
    action = _action(payload.get("issue_event_type_name"))
    if not jira.is_used(event):
        return Outcome(204, "ignored", None, event, action, delivery_id)
    return _store(rt, environ, "jira", delivery_id, event, action, body)


def _answer(tracker: str, handler) -> Response:
    started = time.perf_counter()
    rt = current_app.extensions["okrbot"]
    try:
        outcome = handler(rt, request.environ)
    except WebhookError as exc:
        outcome = Outcome(exc.status, type(exc).__name__, {"error": exc.message})
        if isinstance(exc, SignatureError):
            log.warning("%s delivery refused: %s", tracker, exc.message)
    ms = (time.perf_counter() - started) * 1000
    known = github.KNOWN_EVENTS if tracker == "github" else jira.KNOWN_EVENTS
    rt.metrics.delivery(tracker, metrics_label(outcome.event, known), outcome.name)
    log.info("delivery id=%s tracker=%s event=%s action=%s outcome=%s status=%d ms=%.1f",
             outcome.delivery_id, tracker, outcome.event, outcome.action or "-", outcome.name,
             outcome.status, ms)
    if outcome.body is None:
        return Response(status=outcome.status)
    return Response(json.dumps(outcome.body), status=outcome.status, mimetype="application/json")


GITHUB_PATH, JIRA_PATH = "/webhooks/github", "/webhooks/jira"
github_blueprint = Blueprint("github_webhooks", __name__)
jira_blueprint = Blueprint("jira_webhooks", __name__)


@github_blueprint.post(GITHUB_PATH)
def receive_github():
    return _answer("github", _github)


@jira_blueprint.post(JIRA_PATH)
def receive_jira():
    return _answer("jira", _jira)
