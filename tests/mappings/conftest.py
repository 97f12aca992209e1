"""What the mapping-file tests share: the test module's okrs.yml (its OKRS text) written to a file."""

from __future__ import annotations

import pytest


@pytest.fixture
def okrs_path(request, tmp_path):
    """okrs.yml holding the requesting test module's `OKRS`; a test may rewrite it to simulate an edit."""
    path = tmp_path / "okrs.yml"
    path.write_text(request.module.OKRS)
    return path
