"""Bytes to a JSON object: shared by the receiver (to answer 400 at once) and the worker.

A body is UTF-8 JSON, an object, nested at most `MAX_DEPTH` levels (checked before it is parsed, so
a body of ten thousand `[` is a 400, not a RecursionError), with finite numbers that fit in 64 bits.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from urllib.parse import parse_qs

from .errors import ContentTypeError, PayloadError

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_DEPTH = 64  # GitHub's and Jira's bodies nest fewer than 10 levels
MAX_INT = 2**63 - 1  # every id and number the trackers send fits a signed 64-bit integer
_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # a backslash and the byte it escapes
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"[]{}')))  # what translate() deletes
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _sep, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def check_content_type(content_type: str | None, allow_form: bool) -> str:
    """The media type, if it is one okrbot reads (JSON, or GitHub's form), in UTF-8; else 415."""
    kind = media_type(content_type)
    if not (kind == JSON_TYPE or (allow_form and kind == FORM_TYPE)):
        allowed = JSON_TYPE + (f" or {FORM_TYPE}" if allow_form else "")
        raise ContentTypeError(f"unsupported content type {kind[:100] or 'none'!r}: send {allowed}")
    charset = _charset(content_type or "")
    if charset not in (None, "utf-8", "utf8"):
        raise ContentTypeError(f"unsupported charset {charset[:40]!r}: send UTF-8")
    return kind


def _text(body: bytes, what: str) -> str:
    if body.startswith(b"\xef\xbb\xbf"):
        raise PayloadError(f"{what} starts with a byte order mark: send UTF-8 without one")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{what} is not UTF-8: invalid byte at position {exc.start}") from None


def check_depth(data: bytes, limit: int = MAX_DEPTH) -> None:
    """PayloadError when the JSON text nests (or opens) deeper than `limit` arrays and objects.

    Works on the UTF-8 bytes, where `"`, `\\` and brackets never occur inside a multi-byte character:
    escapes are dropped, then everything but quotes and brackets; every other piece between the quotes
    left is then inside a string (its brackets do not count), except an unclosed string's tail, which is kept.
    The deepest running count of the brackets left is the depth. Up to the first byte that is not
    JSON, this is exactly what the parser would nest, so the parser never goes deeper than the count
    (tests/webhooks/test_decode_depth.py). Every step runs in C: 12 MB of brackets take about half a
    second, a tracker's 13.5 kB body about 15 µs (the string-stripping regex it replaces took 100).
    """
    if b"\\" in data:
        data = _ESCAPE.sub(b"", data)
    structure = data.translate(None, _NOT_STRUCTURE)
    if structure.count(b"[") + structure.count(b"{") <= limit:
        return
    # Two quotes side by side (a string without brackets, or the end of one and the start of the
    # next) go first: dropping them changes no later quote's parity, and leaves few pieces to split.
    pieces = structure.replace(b'""', b"").split(b'"')
    brackets = b"".join(pieces[::2]) + (pieces[-1] if len(pieces) % 2 == 0 else b"")
    if max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit:
        raise PayloadError(f"JSON nested deeper than {limit} levels")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _bounded(text: str) -> int:
    value = int(text)  # Python refuses more than 4300 digits itself (ValueError)
    if abs(value) > MAX_INT:
        raise ValueError(f"number {text[:40]}... does not fit in 64 bits")
    return value


def _constant(name: str):
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_float=_finite, parse_int=_bounded, parse_constant=_constant)


def _form_payload(text: str) -> str:
    try:
        fields = parse_qs(text, strict_parsing=True, max_num_fields=100, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"malformed form body: {exc}") from None
    if "payload" not in fields:
        raise PayloadError("form body has no payload field")
    if len(fields["payload"]) > 1:
        raise PayloadError("form body has more than one payload field")
    return fields["payload"][0]


def decode_body(body: bytes, kind: str) -> dict:
    """The payload object. GitHub's form encoding carries the JSON in a `payload=` field."""
    text = _text(body, "body")
    if kind == FORM_TYPE:
        text = _form_payload(text)
        body = text.encode("utf-8")
    check_depth(body)
    try:
        payload = _DECODER.decode(text)
    except ValueError as exc:
        raise PayloadError(f"invalid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PayloadError(f"JSON body must be an object, got {type(payload).__name__}")
    if b"\\" in body and b"\\u" in body:  # only an escape can put a NUL or a lone surrogate in a string
        _check_strings(payload)
    return payload


def _storable(text: str) -> bool:
    return "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)


def _check_strings(value: object) -> None:
    """PayloadError for a NUL or a lone surrogate anywhere: PostgreSQL cannot store either in text."""
    if isinstance(value, str):
        if not _storable(value):
            raise PayloadError("JSON string holds a NUL character or a lone surrogate (\\u0000, \\ud800)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)
