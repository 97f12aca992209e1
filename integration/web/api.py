"""The read API: `GET /api/v1/objectives`, `/api/v1/key-results`, `/api/v1/key-results/<id>`.

With OKRBOT_API_TOKEN set, requests need `Authorization: Bearer <token>` (401 otherwise); without
it, only the loopback address is answered (403 otherwise), so an unconfigured instance leaks nothing.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from ipaddress import ip_address

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from mappings.models import KeyResult, Objective
from mappings.views import key_result_json, objective_json

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _rt():
    return current_app.extensions["okrbot"]


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ip_address(address).is_loopback
    except ValueError:
        return False


@api.before_request
def _authorise():
    token = _rt().settings.api_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return jsonify(error="missing or wrong bearer token"), 401, {"WWW-Authenticate": "Bearer"}
        return None
    if not _is_loopback(request.remote_addr):
        return jsonify(error="set OKRBOT_API_TOKEN to answer requests from other machines"), 403
    return None




@api.get("/objectives")
def objectives():
    with _rt().sessions() as session:
        rows = session.scalars(select(Objective).where(Objective.active.is_(True)).order_by(Objective.id))
        return jsonify(objectives=[objective_json(session, o) for o in rows])


@api.get("/key-results")
def key_results():
    now = datetime.now(UTC)
    with _rt().sessions() as session:
        rows = session.scalars(select(KeyResult).where(KeyResult.active.is_(True)).order_by(KeyResult.id))
        return jsonify(key_results=[key_result_json(session, kr, now, _rt().settings.thresholds) for kr in rows])


@api.get("/key-results/<kr_id>")
def key_result(kr_id: str):
    with _rt().sessions() as session:
        kr = session.get(KeyResult, kr_id)
        if kr is None:
            return jsonify(error=f"no key result {kr_id!r}"), 404
        return jsonify(key_result_json(session, kr, datetime.now(UTC), _rt().settings.thresholds))
