"""Bytes to a JSON object: shared by the receiver (to answer 400 at once) and the worker."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from .errors import ContentTypeError, PayloadError

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_content_type(content_type: str | None, allow_form: bool) -> str:
    kind = media_type(content_type)
    if kind == JSON_TYPE or (allow_form and kind == FORM_TYPE):
        return kind
    allowed = JSON_TYPE + (f" or {FORM_TYPE}" if allow_form else "")
    raise ContentTypeError(f"unsupported content type {kind or 'none'!r}: send {allowed}")


def decode_body(body: bytes, kind: str) -> dict:
    """The payload object. GitHub's form encoding carries the JSON in a `payload=` field."""
    if kind == FORM_TYPE:
        try:
            fields = parse_qs(body.decode("utf-8"), strict_parsing=True, max_num_fields=100)
        except (UnicodeDecodeError, ValueError) as exc:
            raise PayloadError(f"malformed form body: {exc}") from None
        if "payload" not in fields:
            raise PayloadError("form body has no payload field")
        body = fields["payload"][0].encode("utf-8")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"invalid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PayloadError(f"JSON body must be an object, got {type(payload).__name__}")
    return payload
