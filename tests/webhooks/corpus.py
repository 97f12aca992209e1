"""The fuzz suite's generated corpus: hostile and broken requests for both webhook endpoints.

Everything here is made from the real fixtures in shared/fixtures (see tests/conftest.py): a field of
a real body replaced by a null, a huge number or a value of the wrong type; a real body truncated,
re-encoded, wrapped in a form; real headers removed, repeated, made non-ASCII or very long. Nothing
here sends anything: tests/webhooks/test_fuzz.py posts it and says what the answer must be.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from tests.conftest import FIXTURES, GITHUB_SECRET, JIRA_SECRET, load_fixture
from webhooks import github
from webhooks.signatures import sign

GITHUB_PATH, JIRA_PATH = "/webhooks/github", "/webhooks/jira"
LONG = "x" * 5000  # longer than any column okrbot stores a string in

# The values put at every field: nulls, numbers at and past 64 bits, and every wrong JSON type.
FIELD_VALUES: dict[str, object] = {
    "null": None,
    "max_int64": 2**63 - 1,
    "negative": -1,
    "float": 1.5e308,
    "true": True,
    "empty": "",
    "long": LONG,
    "list": [1, "two", None],
    "object": {"unexpected": [{}]},
}
# Numbers JSON can write but okrbot refuses at the door (400): past 64 bits, past a float, 5000 digits.
HUGE_NUMBERS = ("18446744073709551616", "1e400", "-1e400", "9" * 5000)


def used_fixtures(tracker: str) -> list[str]:
    """Every real fixture of an event okrbot uses (the ones whose fields reach the parser)."""
    names = sorted(str(p.relative_to(FIXTURES)) for p in (FIXTURES / tracker).glob("*/*.json"))
    if tracker == "jira":
        return names
    return [n for n in names if github.is_used(n.split("/")[1], load_fixture(n).get("action"))]


def field_paths(value: object, prefix: tuple = ()) -> Iterator[tuple]:
    """Every field of a body, nested ones too (the first two items of each list)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + (key,)
            yield from field_paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield prefix + (index,)
            yield from field_paths(item, prefix + (index,))


def replaced(payload: dict | list, path: tuple, value: object) -> dict | list:
    """`payload` with the field at `path` set to `value`: the containers on the path are copied,
    the rest is shared (so that a corpus of every field of every fixture is quick to make)."""
    out = copy.copy(payload)
    out[path[0]] = copy.deepcopy(value) if len(path) == 1 else replaced(payload[path[0]], path[1:], value)
    return out


def field_corpus(name: str, values: dict[str, object] = FIELD_VALUES) -> Iterator[tuple[str, dict]]:
    """(label, payload) for every field of the fixture `name` and every value."""
    payload = load_fixture(name)
    for path in field_paths(payload):
        for label, value in values.items():
            yield f"{name}:{'.'.join(map(str, path))}={label}", replaced(payload, path, value)


@dataclass
class Request:
    """One request to send: where, the body bytes and the headers (a list: a name may repeat)."""

    label: str
    path: str
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    expected: frozenset[int] = frozenset()  # the answers it may get; empty: any 4xx, never 5xx


def signed(path: str, body: bytes, content_type: str = "application/json", event: str = "issues",
           delivery: str | None = None) -> list[tuple[str, str]]:
    """The headers of a correctly signed delivery to `path` (GitHub or Jira), a new delivery id each."""
    delivery = delivery or str(uuid.uuid4())
    if path == GITHUB_PATH:
        return [("Content-Type", content_type), ("X-GitHub-Event", event), ("X-GitHub-Delivery", delivery),
                ("X-Hub-Signature-256", sign(GITHUB_SECRET, body))]
    return [("Content-Type", content_type), ("X-Atlassian-Webhook-Identifier", delivery),
            ("X-Hub-Signature", sign(JIRA_SECRET, body))]


SIGNATURE = {GITHUB_PATH: "X-Hub-Signature-256", JIRA_PATH: "X-Hub-Signature"}
OPENED = "github/issues/octokit-webhooks__opened.payload.json"
JIRA_CREATED = "jira/issue_created/mattermost-plugin-jira__webhook-issue-created.json"
BASE = {GITHUB_PATH: OPENED, JIRA_PATH: JIRA_CREATED}


def _without(headers: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() != name.lower()]


def _with(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return _without(headers, name) + [(name, value)]


# What each header's breakage is answered with, per endpoint (the signature header's: always 401).
# Content-Type twice: the test client keeps the first (the raw-socket test sends a real repeat).
HEADER_ANSWERS = {
    "Content-Type": {"missing": 415, "twice": 202, "non-ASCII": 415, "very long": 415},
    "X-GitHub-Event": {"missing": 400, "twice": 400, "non-ASCII": 400, "very long": 400},
    "X-GitHub-Delivery": {"missing": 400, "twice": 400, "non-ASCII": 400, "very long": 400},
    "X-Atlassian-Webhook-Identifier": {"missing": 202, "twice": 400, "non-ASCII": 400, "very long": 400},
}


def header_corpus(path: str, body: bytes) -> Iterator[Request]:
    """Every header the endpoint reads: missing, repeated, non-ASCII, very long."""
    good = signed(path, body)
    signature = SIGNATURE[path]
    for name, value in good:
        answers = HEADER_ANSWERS.get(name, dict.fromkeys(("missing", "twice", "non-ASCII", "very long"), 401))
        fresh = _with(good, "X-GitHub-Delivery" if path == GITHUB_PATH else "X-Atlassian-Webhook-Identifier",
                      str(uuid.uuid4())) if name != signature else good
        broken = {"missing": _without(fresh, name), "twice": fresh + [(name, value)],
                  "non-ASCII": _with(fresh, name, value + "é☃"), "very long": _with(fresh, name, value + "a" * 6000)}
        for label, headers in broken.items():
            yield Request(f"{name} {label}", path, body, headers, frozenset({answers[label]}))
    real = dict(good)[signature]
    # the signature header's own shapes: each is a 401, but upper-case hex, which is the same digest
    for label, value in {"empty": "", "no method": real.partition("=")[2], "sha1": "sha1=" + "0" * 40,
                         "short digest": real[:-2], "non-hex digest": real[:-1] + "g",
                         "non-ASCII digest": real[:-1] + "é", "two values": f"{real},{real}",
                         "space inside": real.replace("=", "= "), "upper case": real.upper()}.items():
        headers = _with(signed(path, body), signature, value)
        yield Request(f"{signature} {label}", path, body, headers, frozenset({202 if label == "upper case" else 401}))


CONTENT_TYPES = {
    "missing": None, "text/plain": "text/plain", "xml": "application/xml", "empty": "",
    "json latin-1": "application/json; charset=latin-1", "json utf-16": "application/json; charset=utf-16",
    "multipart": "multipart/form-data; boundary=x", "garbage": "\x7f;;;=", "json non-ASCII": "application/jsoné",
}


def content_type_corpus(path: str, body: bytes) -> Iterator[Request]:
    """Wrong or missing content types and charsets: 415 (refused before the signature is looked at)."""
    for label, value in CONTENT_TYPES.items():
        headers = _without(signed(path, body), "Content-Type")
        if value is not None:
            headers.append(("Content-Type", value))
        yield Request(f"content type {label}", path, body, headers, frozenset({415}))
    if path == JIRA_PATH:  # form encoding is GitHub's alone
        yield Request("content type form", path, body, signed(path, body, "application/x-www-form-urlencoded"),
                      frozenset({415}))
    for label in ("application/json; charset=utf-8", "application/json; charset=UTF8",
                  'Application/JSON; charset="utf-8"'):
        yield Request(f"content type {label}", path, body, signed(path, body, label), frozenset({202}))


def _deep(levels: int, body: bytes = b'{"a": 1}') -> bytes:
    """`body` (an object) with a field nesting `levels` arrays: `levels` + 1 levels in all."""
    return body[:-1] + b', "deep": ' + b"[" * levels + b"]" * levels + b"}"


def body_corpus(path: str, body: bytes) -> Iterator[Request]:
    """Signed bodies that are broken as text or as JSON: each is a 400."""
    text = body.decode()
    cases = {
        "empty": b"",
        "BOM": b"\xef\xbb\xbf" + body,
        "latin-1": text.replace('"', '"é', 1).encode("latin-1", errors="replace"),
        "utf-16": text.encode("utf-16"),
        "lone surrogate": body[:-1] + b'"\xed\xa0\x80"}',
        "invalid byte": body[:10] + b"\xff" + body[10:],
        "a list": b"[" + body + b"]",
        "a string": b'"hello"',
        "null": b"null",
        "NaN": body[:-1].rstrip() + b', "n": NaN}',
        "deep arrays": _deep(100_000),
        "deep objects": ('{"a":' * 5000 + "1" + "}" * 5000).encode(),
        "deep unclosed": b'{"a":' + b"[" * 100_000,
        "65 levels": _deep(64, body),
    }
    for number in HUGE_NUMBERS:
        cases[f"number {number[:20]}"] = body[:-1].rstrip() + b', "n": ' + number.encode() + b"}"
    for cut in (1, len(body) // 3, len(body) // 2, len(body) - 1):
        cases[f"truncated at {cut}"] = body[:cut]
    for label, broken in cases.items():
        yield Request(f"body {label}", path, broken, signed(path, broken), frozenset({400}))
    near = _deep(63, body)  # 64 levels: the limit, so it is read, stored and applied
    yield Request("body 64 levels", path, near, signed(path, near), frozenset({202}))


def form_corpus(body: bytes) -> Iterator[Request]:
    """GitHub's form encoding with a bad `payload=` field: each is a 400 (the good one a 202)."""
    form = "application/x-www-form-urlencoded"
    cases = {
        "no payload field": b"other=" + quote(body.decode()).encode(),
        "empty payload": b"payload=",
        "payload not JSON": b"payload=not%20json",
        "payload truncated": b"payload=" + quote(body.decode()[:-5]).encode(),
        "payload twice": b"payload=" + quote(body.decode()).encode() + b"&payload=" + quote(body.decode()).encode(),
        "payload not UTF-8": b"payload=%FF%FE" + quote(body.decode()).encode(),
        "payload a list": b"payload=" + quote("[1]").encode(),
        "payload deep": b"payload=" + quote(_deep(10_000).decode()).encode(),
        "broken escape": b"payload=%zz",
        "no equals sign": b"payload",
        "too many fields": b"&".join(b"f%d=1" % i for i in range(200)) + b"&payload=" + quote(body.decode()).encode(),
        "raw JSON as form": body,
    }
    for label, broken in cases.items():
        yield Request(f"form {label}", GITHUB_PATH, broken, signed(GITHUB_PATH, broken, form), frozenset({400}))
    good = b"payload=" + quote(body.decode()).encode()
    yield Request("form good", GITHUB_PATH, good, signed(GITHUB_PATH, good, form), frozenset({202}))


def request_corpus() -> list[Request]:
    """Every generated request for both endpoints (headers, content types, bodies, forms)."""
    out: list[Request] = []
    for path, fixture in BASE.items():
        body = (FIXTURES / fixture).read_bytes()
        compact = json.dumps(json.loads(body)).encode()
        out += [*header_corpus(path, compact), *content_type_corpus(path, compact), *body_corpus(path, compact)]
    out += form_corpus(json.dumps(load_fixture(OPENED)).encode())
    return out
