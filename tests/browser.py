"""A real browser for the page tests: Debian's Chromium driven by pytest-playwright.

Playwright cannot download its own browsers on the CI machine, so the tests launch the system Chromium
(`executable_path`). `.ci/run` installs Debian's `chromium` package when it is missing. On a laptop
without Chromium the browser tests skip with one line saying how to get it; under CI=true (or
OKRBOT_TEST_REQUIRE_SERVICES=1) they fail instead.

Also here: `serve_app`, a real HTTP server on a loopback port for a Flask app built in the test (the
browser must reach it over TCP, so Flask's test client will not do).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

HOW_TO_GET = ("no Chromium for the browser tests: install Debian's package (`sudo apt-get install chromium`) "
              "or point OKRBOT_CHROMIUM at a Chromium or Chrome binary")


def chromium_path() -> str | None:
    return (os.environ.get("OKRBOT_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser") or shutil.which("google-chrome"))


def require_chromium() -> str:
    path = chromium_path()
    if path:
        return path
    if os.environ.get("CI") == "true" or os.environ.get("OKRBOT_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(HOW_TO_GET + " (required here: CI=true)", pytrace=False)
    pytest.skip(HOW_TO_GET)


@contextmanager
def serve_app(app, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` on a free loopback port in a thread; yield its base URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="okrbot-test-http", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


# Screenshots of the main pages land here (gitignored) so that a person can look at them after a run.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
