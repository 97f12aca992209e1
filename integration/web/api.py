"""The read API: `GET /api/v1/objectives`, `/api/v1/key-results`, `/api/v1/key-results/<id>`.

Who may read it is decided for every page and API call alike, in `access.py`: the bearer token or a
signed-in session, and loopback only under `okrbot serve` on a loopback address without a token.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select

from mappings.models import KeyResult, Objective
from mappings.views import key_result_json, objective_json

from ..trackers.access import repos_of, source_of, source_states

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _rt():
    return current_app.extensions["okrbot"]


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
        states = source_states(session)  # one read, whatever the number of key results
        return jsonify(key_results=[_with_source(states, key_result_json(session, kr, now, _rt().settings.thresholds),
                                                 kr) for kr in rows])


@api.get("/key-results/<kr_id>")
def key_result(kr_id: str):
    with _rt().sessions() as session:
        kr = session.get(KeyResult, kr_id)
        if kr is None:
            return jsonify(error=f"no key result {kr_id!r}"), 404
        body = key_result_json(session, kr, datetime.now(UTC), _rt().settings.thresholds)
        return jsonify(_with_source(source_states(session), body, kr))


def _with_source(states: dict[str, str], body: dict, kr: KeyResult) -> dict:
    """`source`: "ok", "source removed" (the App lost the repository) or "installation suspended"."""
    return body | {"source": source_of(states, source_repos(kr))}


def source_repos(kr: KeyResult) -> list[str]:
    spec = _rt().domain.index.spec(kr.id) if kr.origin == "file" else None
    return repos_of(kr.anchor_key, spec.sources if spec else ())
