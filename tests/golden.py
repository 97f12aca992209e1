"""Golden files: the exact rendered text, compared; rewritten only on request, and never under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "integration" / "golden"


def golden(name: str, text: str, folder: Path = GOLDEN) -> None:
    """Assert `text` is the golden file `name`; OKRBOT_UPDATE_GOLDEN=1 rewrites it first (locally only).

    Under CI a rewrite would turn every comparison into a pass, so asking for one there fails the test.
    """
    path = folder / name
    if os.environ.get("OKRBOT_UPDATE_GOLDEN") == "1":
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"OKRBOT_UPDATE_GOLDEN=1 under CI: golden files are compared there, never rewritten "
                        f"({name})")
        path.write_text(text)
    assert text == path.read_text()
