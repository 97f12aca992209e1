"""The pages' routes: `/`, `/key-results/<id>`, `/people/<login>`, `/needs-attention`.

Who may see them is the read API's rule (its `before_request`): the loopback address, or the API token.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template, request

from mappings.checkins import EXAMPLE, USAGE

from ...summaries.render import forecast_text
from .burnup import burnup_chart
from .detail import key_result_page, needs_attention, person_page
from .format import FILTERS, HEALTH_TEXT, ago
from .query import Filters, Period, PeriodError, dashboard, default_period

pages = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
                  static_url_path="/static/pages")
# Who may see the pages is decided for every view in integration/web/access.py.
for _name, _filter in FILTERS.items():
    pages.add_app_template_filter(_filter, _name)


def _rt():
    return current_app.extensions["okrbot"]


def _period(now: datetime) -> Period:
    text = request.args.get("period", "").strip()
    if not text:
        return default_period(_rt(), now.date())
    try:
        return Period.parse(text)
    except PeriodError as exc:
        abort(400, description=str(exc))


def _arg(name: str) -> str | None:
    return request.args.get(name, "").strip() or None


@pages.get("/")
def index():
    now = datetime.now(UTC)
    period = _period(now)
    filters = Filters(owner=_arg("owner"), health=_arg("health"), tracker=_arg("tracker"),
                      objective=_arg("objective"))
    with _rt().sessions() as session:
        board = dashboard(_rt(), session, period, filters, now)
    return render_template("pages/index.html", board=board, filters=filters, now=now, ago=ago,
                           healths=HEALTH_TEXT)


@pages.get("/key-results/<kr_id>")
def key_result(kr_id: str):
    now = datetime.now(UTC)
    with _rt().sessions() as session:
        page = key_result_page(_rt(), session, kr_id, now)
        if page is None:
            abort(404, description=f"no key result {kr_id!r}")
        return render_template("pages/key_result.html", page=page, r=page.row, now=now, ago=ago,
                               chart=burnup_chart(page, now), forecast=forecast_text(page.forecast), usage=USAGE,
                               example=EXAMPLE)


@pages.get("/people/<login>")
def person(login: str):
    now = datetime.now(UTC)
    period = _period(now)
    with _rt().sessions() as session:
        page = person_page(_rt(), session, login, period, now)
        return render_template("pages/person.html", page=page, period=period, now=now, ago=ago)


@pages.get("/needs-attention")
def attention():
    now = datetime.now(UTC)
    with _rt().sessions() as session:
        page = needs_attention(_rt(), session, _period(now), now)
    return render_template("pages/needs_attention.html", page=page, now=now, ago=ago)
