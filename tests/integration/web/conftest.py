"""The pages' tests share a runtime with okrs.yml and the five-day story (tests/integration/web/story.py)."""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from integration.web.app import create_app
from tests.conftest import github_headers

from . import story


@pytest.fixture
def story_rt(make_runtime, settings, tmp_path):
    okrs = tmp_path / "okrs.yml"
    okrs.write_text(story.okrs_text(date.today()))
    return make_runtime(settings.with_overrides(mappings=str(okrs), stale_days=story.STALE_DAYS)), okrs


@pytest.fixture
def story_app(story_rt):
    rt, _okrs = story_rt
    return create_app(rt.settings, runtime=rt, open_to_loopback=True)


@pytest.fixture
def played(story_rt, story_app):
    """The story applied through the test client's signed posts (in-process); returns the app's client."""
    rt, okrs = story_rt
    client = story_app.test_client()

    def post(event: str, body: dict) -> int:
        raw = json.dumps(body).encode()
        return client.post("/webhooks/github", data=raw, headers=github_headers(raw, event)).status_code

    story.play(rt, post, okrs)
    return client


class _Rows(HTMLParser):
    """The text of each element with a class, per key result (`<tr class="kr" data-kr=...>`, `<dl class="kr" ...>`)."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self._kr: str | None = None
        self._tag: str | None = None
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._kr is None and "kr" in (a.get("class") or "").split():
            self._kr, self._tag = a["data-kr"], tag
            self.rows[self._kr] = {}
        if self._kr is not None:
            self._open.append((tag, (a.get("class") or "").split()))

    def handle_endtag(self, tag):
        if self._kr is None:
            return
        while self._open:
            t, _classes = self._open.pop()
            if t == tag:
                break
        if tag == self._tag:
            self._kr, self._open = None, []

    def handle_data(self, data):
        if self._kr is None:
            return
        for _tag, classes in self._open:
            for c in classes:
                row = self.rows[self._kr]
                row[c] = row.get(c, "") + data


def kr_rows(html: str) -> dict[str, dict[str, str]]:
    """Per key result listed: {class: its text, whitespace collapsed}, e.g. rows[id]["kr-percent"] == "75%"."""
    parser = _Rows()
    parser.feed(html)
    return {kr: {c: re.sub(r"\s+", " ", t).strip() for c, t in row.items()} for kr, row in parser.rows.items()}
