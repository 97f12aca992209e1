"""Waiting for a process started by a test or a bench to answer over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests


def wait_until_ok(url: str, seconds: float, request_timeout: float = 1.0,
                  alive: Callable[[], None] = lambda: None) -> bool:
    """Poll `url` until it answers 200; False when `seconds` pass first. `alive` raises when the process died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive()
        try:
            if requests.get(url, timeout=request_timeout).status_code == 200:
                return True
        except requests.RequestException:  # not listening yet
            pass
        time.sleep(0.1)
    return False
