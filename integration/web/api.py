"""The read API: `GET /api/v1/objectives`, `/api/v1/key-results`, `/api/v1/key-results/<id>`.

Who may read it is decided for every page and API call alike, in `access.py`: the bearer token or a
signed-in session, and loopback only under `okrbot serve` on a loopback address without a token.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select

from mappings.checkins import checkin_history, current_checkins
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
    """Each with its current check-in (one statement for all of them); the history is on the detail."""
    now = datetime.now(UTC)
    with _rt().sessions() as session:
        rows = list(session.scalars(select(KeyResult).where(KeyResult.active.is_(True)).order_by(KeyResult.id)))
        current = current_checkins(session, [kr.id for kr in rows])
        states = source_states(session)  # one read, whatever the number of key results
        listed = [_with_source(states, key_result_json(session, kr, now, _rt().settings.thresholds), kr)
                  for kr in rows]
        for kr, out in zip(rows, listed, strict=True):
            out["checkin"] = current[kr.id].as_json() if kr.id in current else None
        return jsonify(key_results=listed)


@api.get("/key-results/<kr_id>")
def key_result(kr_id: str):
    with _rt().sessions() as session:
        kr = session.get(KeyResult, kr_id)
        if kr is None:
            return jsonify(error=f"no key result {kr_id!r}"), 404
        out = key_result_json(session, kr, datetime.now(UTC), _rt().settings.thresholds)
        history = checkin_history(session, kr.id)  # newest first; the first is the current one
        out["checkin"] = history[0].as_json() if history else None
        out["checkins"] = [c.as_json() for c in history]
        return jsonify(_with_source(source_states(session), out, kr))


def _with_source(states: dict[str, str], body: dict, kr: KeyResult) -> dict:
    """`source`: "ok", "source removed" (the App lost the repository) or "installation suspended"."""
    return body | {"source": source_of(states, source_repos(kr))}


def source_repos(kr: KeyResult) -> list[str]:
    spec = _rt().domain.index.spec(kr.id) if kr.origin == "file" else None
    return repos_of(kr.anchor_key, spec.sources if spec else ())
