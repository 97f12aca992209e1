"""The `/checkin` command as people write it: examples, then properties over random comments."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from mappings.checkin_command import ELLIPSIS, BadCheckin, CheckinCommand, cut_note, read_checkin
from mappings.checkins import EXAMPLE, NOTE_LIMIT, CheckinStatus


def test_the_issue_example():
    assert read_checkin(EXAMPLE) == CheckinCommand(CheckinStatus.AT_RISK, 6, "vendor API slipped a week")


def test_status_any_case_with_underscore_and_no_confidence_nor_note():
    assert read_checkin("/CheckIn ON_Track") == CheckinCommand(CheckinStatus.ON_TRACK, None, "")
    assert read_checkin("/checkin off-track 0/10") == CheckinCommand(CheckinStatus.OFF_TRACK, 0, "")
    assert read_checkin("/checkin on-track 10/10 done soon") == CheckinCommand(CheckinStatus.ON_TRACK, 10, "done soon")


def test_following_lines_continue_the_note():
    body = "/checkin at-risk 4/10 vendor slipped\r\nsecond line\n\nthird @bob"
    assert read_checkin(body) == CheckinCommand(CheckinStatus.AT_RISK, 4, "vendor slipped\nsecond line\n\nthird @bob")
    assert read_checkin("/checkin at-risk\nonly below") == CheckinCommand(CheckinStatus.AT_RISK, None, "only below")


def test_not_a_checkin():
    for body in ("", "looks fine", "/checkins on-track", "please /checkin on-track", "thanks\n/checkin on-track"):
        assert read_checkin(body) is None, body


def test_bad_input():
    assert read_checkin("/checkin") == BadCheckin("no status given")
    assert read_checkin("/checkin maybe 5/10") == BadCheckin("unknown status")
    assert read_checkin("/checkin ontrack") == BadCheckin("unknown status")
    for score in ("11/10", "-1/10", "7/5", "6.5/10", "100/10"):
        assert isinstance(read_checkin(f"/checkin at-risk {score} note"), BadCheckin), score


def test_a_note_after_the_confidence_may_begin_with_a_number():
    assert read_checkin("/checkin at-risk 6/10 3/4 done") == CheckinCommand(CheckinStatus.AT_RISK, 6, "3/4 done")


def test_a_long_note_is_cut_with_an_ellipsis():
    got = read_checkin("/checkin on-track " + "x" * 1500)
    assert len(got.note) == NOTE_LIMIT and got.note.endswith(ELLIPSIS) and got.note[:-1] == "x" * (NOTE_LIMIT - 1)
    assert read_checkin("/checkin on-track " + "y" * NOTE_LIMIT).note == "y" * NOTE_LIMIT


# --- properties -------------------------------------------------------------------------------

_SPELLINGS = {s: s.value.replace("_", "-") for s in CheckinStatus}
_LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # besides "\n", which the note keeps
_note_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=_LINE_BREAKS), max_size=1300)


@st.composite
def _spelled(draw, status: CheckinStatus) -> str:
    word = _SPELLINGS[status].replace("-", draw(st.sampled_from("-_")))
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


@given(status=st.sampled_from(list(CheckinStatus)), data=st.data(),
       confidence=st.none() | st.integers(0, 10), note=_note_text)
def test_any_well_formed_checkin_reads_back(status, data, confidence, note):
    spelled = data.draw(_spelled(status))
    body = f"/checkin {spelled}" + (f" {confidence}/10" if confidence is not None else "") + f" {note}"
    expected_note = note.strip()
    assume(confidence is not None or not re.fullmatch(r"\S*\d/\S*", (expected_note.split() or [""])[0]))
    got = read_checkin(body)
    assert isinstance(got, CheckinCommand)
    assert (got.status, got.confidence) == (status, confidence)
    assert got.note == cut_note(expected_note)
    assert len(got.note) <= NOTE_LIMIT


@given(word=st.text(st.characters(whitelist_categories=("L", "N", "Pd", "Pc")), min_size=1, max_size=20))
def test_unknown_status_is_bad_input(word):
    if word.lower().replace("_", "-") in _SPELLINGS.values():
        return
    assert read_checkin(f"/checkin {word} 5/10 note") == BadCheckin("unknown status")


@given(score=st.integers(-1000, 1000).filter(lambda n: not 0 <= n <= 10), denominator=st.sampled_from([10, 5, 100]))
def test_confidence_outside_0_to_10_is_bad_input(score, denominator):
    assert isinstance(read_checkin(f"/checkin at-risk {score}/{denominator} vendor"), BadCheckin)


@given(note=_note_text)
def test_cut_note_never_passes_the_limit_and_keeps_the_start(note):
    cut = cut_note(note)
    assert len(cut) <= NOTE_LIMIT
    assert cut == note if len(note) <= NOTE_LIMIT else (cut.endswith(ELLIPSIS) and note.startswith(cut[:-1]))
