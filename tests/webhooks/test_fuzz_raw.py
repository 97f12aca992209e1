"""Hostile requests over a raw socket to real web processes: the Procfile's gunicorn and `okrbot serve`.

Flask's test client joins repeated headers, and cannot send a chunked body or a body shorter than its
Content-Length; a real server gets them as a client sends them. Under `okrbot serve` the worker runs
in the same process, so the deliveries stored here are also applied (or failed) by a real consumer.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time

import pytest
from sqlalchemy import create_engine, select

from tests.conftest import FIXTURES, GITHUB_SECRET, JIRA_SECRET, load_fixture
from tests.web_processes import BIN, base_env, gunicorn, okrbot_serve
from webhooks.models import FAILED, PROCESSED, RECEIVED, Delivery
from webhooks.signatures import sign

OPENED = "github/issues/octokit-webhooks__opened.payload.json"
LIMIT = 25 * 1024 * 1024  # the body limit (integration.config.MAX_BODY_BYTES)
NEW_SECRET = "the-new-github-secret-during-a-rotation"  # the processes hold two GitHub secrets


@pytest.fixture(scope="module", params=["gunicorn", "okrbot serve"])
def web(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("raw")
    env = base_env(tmp, GITHUB_WEBHOOK_SECRET=f"{GITHUB_SECRET},{NEW_SECRET}", JIRA_WEBHOOK_SECRET=JIRA_SECRET)
    start = gunicorn if request.param == "gunicorn" else okrbot_serve
    process = start(env, tmp / "web.log")
    try:
        process.wait_ready()
        process.env, process.kind = env, request.param
        yield process
    finally:
        process.stop()


def _port(web) -> int:
    return int(web.url.rsplit(":", 1)[1])


def _exchange(web, head: bytes, body: bytes = b"", chunks: list[bytes] | None = None) -> tuple[int, bytes]:
    """Send a request as written (the body in a thread: a server may answer before it is all sent);
    return the status and the answer's body."""
    with socket.create_connection(("127.0.0.1", _port(web)), timeout=30) as sock:
        sock.sendall(head)

        def send():
            try:
                if chunks is None:
                    sock.sendall(body)
                else:
                    for chunk in chunks:
                        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sock.sendall(b"0\r\n\r\n")
            except OSError:  # the server answered and closed before the rest was sent
                pass

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        return _answer(sock)


def _answer(sock) -> tuple[int, bytes]:
    """The status and body of the answer, read up to its Content-Length (a server that answered
    early may keep the connection open while the client is still sending)."""
    answer = b""
    while b"\r\n\r\n" not in answer and (part := sock.recv(65536)):
        answer += part
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    assert status_line.startswith(b"HTTP/1."), answer[:200]
    length = next(int(v) for k, _, v in (line.partition(b":") for line in header_lines)
                  if k.strip().lower() == b"content-length")
    while len(body) < length and (part := sock.recv(65536)):
        body += part
    return int(status_line.split()[1]), body


def _head(path: str, headers: list[tuple[str, bytes]], length: int | None) -> bytes:
    lines = [f"POST {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name.encode() + b": " + value for name, value in headers]
    if length is not None:
        lines.append(b"Content-Length: %d" % length)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _github(body: bytes, delivery: str, **replace: list[bytes]) -> list[tuple[str, bytes]]:
    """GitHub's headers for `body`; a name given in `replace` is sent with each of those values."""
    headers = {"Content-Type": [b"application/json"], "X-GitHub-Event": [b"issues"],
               "X-GitHub-Delivery": [delivery.encode()], "X-Hub-Signature-256": [sign(GITHUB_SECRET, body).encode()]}
    headers.update({name.replace("_", "-"): values for name, values in replace.items()})
    return [(name, value) for name, values in headers.items() for value in values]


def _post_github(web, body: bytes, delivery: str, **replace) -> tuple[int, bytes]:
    return _exchange(web, _head("/webhooks/github", _github(body, delivery, **replace), len(body)), body)


def _signature(body: bytes) -> bytes:
    return sign(GITHUB_SECRET, body).encode()


def _deliveries(web) -> list[Delivery]:
    engine = create_engine(web.env["OKRBOT_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(Delivery.delivery_id, Delivery.status, Delivery.last_error)))
    finally:
        engine.dispose()


def test_repeated_non_ascii_and_overlong_headers(web):
    body = (FIXTURES / OPENED).read_bytes()
    good = _signature(body)
    assert _post_github(web, body, "raw-sig-twice", X_Hub_Signature_256=[good, good]) == (
        401, b'{"error": "malformed X-Hub-Signature-256 header: more than one value"}')
    assert _post_github(web, body, "raw-sig-utf8", X_Hub_Signature_256=[good[:-1] + "é".encode()]) == (
        401, b'{"error": "malformed X-Hub-Signature-256 header: not ASCII"}')
    assert _post_github(web, body, "raw-event-twice", X_GitHub_Event=[b"issues", b"issues"]) == (
        400, b'{"error": "X-GitHub-Event header has more than one value"}')
    assert _post_github(web, body, "raw-id", X_GitHub_Delivery=[b"one", b"two"]) == (
        400, b'{"error": "X-GitHub-Delivery header has more than one value"}')
    jira = (FIXTURES / "jira/issue_created/mattermost-plugin-jira__webhook-issue-created.json").read_bytes()
    jira_sig = sign(JIRA_SECRET, jira).encode()
    head = _head("/webhooks/jira", [("Content-Type", b"application/json"), ("X-Hub-Signature", jira_sig),
                                    ("X-Hub-Signature", jira_sig)], len(jira))
    assert _exchange(web, head, jira) == (401, b'{"error": "malformed X-Hub-Signature header: more than one value"}')
    # gunicorn refuses a header line this long itself (431); the development server passes it on
    long = _post_github(web, body, "raw-long", X_Hub_Signature_256=[good + b"0" * 10_000])
    assert long == ((431, long[1]) if web.kind == "gunicorn"
                    else (401, b'{"error": "malformed X-Hub-Signature-256 header: longer than 200 characters"}'))
    twice = _post_github(web, body, "raw-ct-twice", Content_Type=[b"application/json", b"text/plain"])
    assert twice[0] == {"gunicorn": 400, "okrbot serve": 415}[web.kind], twice  # gunicorn refuses it itself
    assert [d for d in _deliveries(web) if d.delivery_id.startswith("raw-")] == []


def test_chunked_bodies_under_and_over_the_limit(web):
    body = (FIXTURES / OPENED).read_bytes()
    head = _head("/webhooks/github", _github(body, "raw-chunked") + [("Transfer-Encoding", b"chunked")], None)
    assert _exchange(web, head, chunks=[body[:1000], body[1000:]]) == (
        202, b'{"status": "accepted", "delivery": "raw-chunked"}')
    big = [b" " * (1024 * 1024)] * (LIMIT // (1024 * 1024) + 1)
    head = _head("/webhooks/github", _github(b"", "raw-chunked-big") + [("Transfer-Encoding", b"chunked")], None)
    assert _exchange(web, head, chunks=big) == (413, b'{"error": "body exceeds the limit of 26214400 bytes"}')
    over = b"{" + b" " * LIMIT + b"}"
    assert _post_github(web, over, "raw-big") == (
        413, b'{"error": "body of 26214402 bytes exceeds the limit of 26214400"}')


def test_a_body_shorter_than_its_length_is_a_400(web):
    body = (FIXTURES / OPENED).read_bytes()
    with socket.create_connection(("127.0.0.1", _port(web)), timeout=30) as sock:
        sock.sendall(_head("/webhooks/github", _github(body, "raw-short"), len(body)) + body[:100])
        sock.shutdown(socket.SHUT_WR)  # the client stops sending: the body ends early
        assert _answer(sock) == (400, b'{"error": "body ended before its Content-Length of %d bytes"}' % len(body))


def _broken_but_signed() -> list[tuple[str, bytes]]:
    """Bodies that are valid JSON, signed, and stored, which the worker must fail with a reason."""
    too_long = load_fixture(OPENED)
    too_long["repository"]["full_name"] = "o/" + "r" * 400
    no_number = load_fixture(OPENED)
    no_number["issue"]["number"] = -5
    return [("raw-too-long", json.dumps(too_long).encode()), ("raw-no-number", json.dumps(no_number).encode())]


@pytest.mark.parametrize("web", ["okrbot serve"], indirect=True)  # its worker runs in the web process
def test_stored_broken_deliveries_fail_readably_and_the_server_goes_on(web):
    for delivery, body in _broken_but_signed():
        assert _post_github(web, body, delivery)[0] == 202
    good = load_fixture(OPENED)
    good["issue"]["title"] = "Answered after the broken ones"
    body = json.dumps(good).encode()
    assert _post_github(web, body, "raw-good-after") == (202, b'{"status": "accepted", "delivery": "raw-good-after"}')
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = {d.delivery_id: d for d in _deliveries(web)
                if d.delivery_id in ("raw-too-long", "raw-no-number", "raw-good-after")}
        if len(rows) == 3 and all(d.status != RECEIVED for d in rows.values()):
            break
        time.sleep(0.2)
    assert {k: d.status for k, d in rows.items()} == {"raw-too-long": FAILED, "raw-no-number": FAILED,
                                                      "raw-good-after": PROCESSED}
    listed = subprocess.run([str(BIN / "okrbot"), "deliveries", "--failed"], env=web.env, capture_output=True,
                            text=True, timeout=60, check=True).stdout
    key = "github:o/" + "r" * 400 + "#1"
    assert f"OutOfBounds: work_items.key would hold {len(key)} characters; it holds at most 300" in listed
    assert "unparseable body: issue without `number` (a positive integer)" in listed


def test_a_delivery_signed_with_the_new_secret_is_accepted_and_no_secret_is_logged(web):
    body = (FIXTURES / OPENED).read_bytes()
    new = sign(NEW_SECRET, body).encode()
    assert _post_github(web, body, "raw-new-secret", X_Hub_Signature_256=[new]) == (
        202, b'{"status": "accepted", "delivery": "raw-new-secret"}')
    assert _post_github(web, body, "raw-wrong", X_Hub_Signature_256=[sign("retired", body).encode()])[0] == 401
    log = web.log()
    assert "delivery id=raw-new-secret" in log and "does not match the body" in log
    assert [s for s in (GITHUB_SECRET, NEW_SECRET, JIRA_SECRET) if s in log] == []
