"""`check_depth`: the nesting limit, checked on the bytes before json.loads ever recurses.

Held against a plain reference scanner written here: on valid JSON the verdict is exact (the true
depth, brackets inside strings and escaped quotes not counted); on any text at all it is sound (when
it admits a text, the parser could not nest deeper than the limit before the first byte that is not
JSON).
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks.decode import MAX_DEPTH, check_depth, decode_body
from webhooks.errors import PayloadError

PROPERTY = settings(max_examples=400, deadline=None, derandomize=os.environ.get("CI") == "true")


def _admits(text: str, limit: int) -> bool:
    try:
        check_depth(text.encode("utf-8"), limit)
    except PayloadError as exc:
        assert exc.message == f"JSON nested deeper than {limit} levels"
        return False
    return True


def _true_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_true_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_true_depth, value), default=0)
    return 0


def _parser_reach(text: str) -> int:
    """The deepest the parser can nest in `text` before the first stray backslash stops it (it stops at
    other bad bytes too, which only makes this an upper bound of what it really reaches)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == "\\":
            break
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


TRICKY_TEXT = st.text(alphabet='[]{}"\\:,ab é\n', max_size=12)
JSON = st.recursive(
    st.none() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=30,
)


@PROPERTY
@given(value=JSON, limit=st.integers(0, 8), ascii_only=st.booleans())
def test_on_valid_json_the_verdict_is_the_true_depth(value, limit, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _admits(text, limit) == (_true_depth(value) <= limit)


@PROPERTY
@given(text=st.text(alphabet='[]{}"\\aé\n', max_size=60), limit=st.integers(0, 6))
def test_on_any_text_what_is_admitted_cannot_nest_deeper_than_the_limit(text, limit):
    if _admits(text, limit):
        assert _parser_reach(text) <= limit


@pytest.mark.parametrize(("text", "admitted"), [
    ('{"a": "[[[[[[[[[["}', True),  # brackets in a string do not count
    ('{"a": "\\"[[[[[[[[[["}', True),  # nor after an escaped quote inside it
    ('{"a": "\\\\", "b": [[[[[[[[[[]]]]]]]]]]}', False),  # an escaped backslash ends nothing: this nests 11
    ('{"a": [[[[[[[[[[', False),  # unclosed brackets count
    ('{"a": "[[[[[[[[[[', False),  # an unclosed string's brackets count too
])
def test_strings_escapes_and_unclosed_brackets(text, admitted):
    assert _admits(text, 10) is admitted


def test_the_limit_is_64_levels_through_decode_body():
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert decode_body(('{"a": ' + inner + "}").encode(), "application/json") == {"a": json.loads(inner)}
    with pytest.raises(PayloadError, match="nested deeper than 64 levels"):
        decode_body(('{"a": [' + inner + "]}").encode(), "application/json")
    with pytest.raises(PayloadError, match="nested deeper than 64 levels"):  # GitHub's form encoding too
        decode_body(b"payload=" + ('{"a": [' + inner + "]}").encode(), "application/x-www-form-urlencoded")
