"""The golden-file helper itself: it compares, rewrites only when asked, and refuses to rewrite under CI."""

from __future__ import annotations

import pytest

from tests.golden import golden


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.delenv("OKRBOT_UPDATE_GOLDEN", raising=False)
    monkeypatch.delenv("CI", raising=False)
    (tmp_path / "x.md").write_text("old\n")
    return tmp_path


def test_a_difference_fails(folder):
    with pytest.raises(AssertionError):
        golden("x.md", "new\n", folder)
    golden("x.md", "old\n", folder)


def test_asked_to_update_it_rewrites_the_file_locally(folder, monkeypatch):
    monkeypatch.setenv("OKRBOT_UPDATE_GOLDEN", "1")
    golden("x.md", "new\n", folder)
    assert (folder / "x.md").read_text() == "new\n"


def test_under_ci_asking_to_update_fails_and_leaves_the_file(folder, monkeypatch):
    monkeypatch.setenv("OKRBOT_UPDATE_GOLDEN", "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as info:
        golden("x.md", "new\n", folder)
    assert str(info.value) == "OKRBOT_UPDATE_GOLDEN=1 under CI: golden files are compared there, never rewritten (x.md)"
    assert (folder / "x.md").read_text() == "old\n"
    with pytest.raises(pytest.fail.Exception):
        golden("x.md", "old\n", folder)  # even when nothing would change: the request itself is the error
