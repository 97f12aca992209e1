"""The burn-up chart of one key result: done and scope per day, the ideal line and the forecast."""

from __future__ import annotations

from datetime import datetime

from ...charts.svg import Series, line_chart
from ...summaries.render import forecast_text
from .detail import KeyResultPage, forecast_line
from .format import number


def burnup_chart(page: KeyResultPage, now: datetime) -> str:
    days = page.burnup
    unit = "points" if page.row.progress.measure == "points" else "work items"
    series = [
        Series("scope", "scope", tuple((d.day, d.scope) for d in days), colour="#8c959f"),
        Series("done", "done", tuple((d.day, d.done) for d in days), colour="#1a7f37"),
        Series("ideal", "ideal", ((page.period.start, 0.0), (page.period.end, page.goal)), dashed=True,
               markers=False, colour="#57606a"),
    ]
    ahead = forecast_line(page, now)
    if ahead:
        series.append(Series("forecast", "forecast", ahead, dashed=True, markers=False, colour="#bf8700"))
    last = days[-1] if days else None
    today = f"Today {number(last.done)} of {number(last.scope)} {unit} done. " if last else "No history yet. "
    desc = (f"Burn-up of {page.row.title} from {page.period.start} to {page.period.end}, one point per day. {today}"
            f"The ideal line ends at {number(page.goal)} on {page.period.end}. "
            f"Forecast: {forecast_text(page.forecast)}.")
    return line_chart(f"Burn-up: {page.row.title}", desc, page.period.start, page.period.end, series, unit,
                      chart_id="burnup")
