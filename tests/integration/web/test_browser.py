"""The browser plumbing itself: the system Chromium opens a page served over a real loopback socket."""

from __future__ import annotations

import json

from tests.browser import serve_app


def test_chromium_reads_a_page_served_on_loopback(app, page):
    with serve_app(app) as base:
        response = page.goto(base + "/healthz")
        assert response.status == 200
        assert json.loads(page.inner_text("body")) == {"status": "ok"}
