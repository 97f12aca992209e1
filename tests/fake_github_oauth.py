"""A small GitHub on loopback for the sign-in tests: its OAuth pages and the two API calls okrbot makes.

A real HTTP server (the browser and the okrbot process both reach it over TCP), shaped by GitHub's
documentation of the web application flow and of the REST endpoints:
- `GET /login/oauth/authorize`: a page with one link per known user ("sign in as"), which goes back to
  the `redirect_uri` with a one-time `code` and the `state`;
- `POST /login/oauth/access_token`: checks the client id and secret (form fields, as GitHub documents),
  the code, the redirect URI and the PKCE verifier; answers JSON when asked for it;
- `GET /user` and `GET /user/memberships/orgs/{org}` with the user's token (404 when not a member).
Every request is kept, so tests can assert what okrbot asked and with which token.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "Iv1.fake-client-id"
CLIENT_SECRET = "fake-client-secret-0123456789abcdef"


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    authorization: str | None


@dataclass
class FakeGithub:
    members: dict[str, dict[str, str]]  # login → {org: "active" | "pending"}
    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    codes: dict[str, dict] = field(default_factory=dict)  # code → what the authorize request said
    tokens: dict[str, str] = field(default_factory=dict)  # access token → login
    issued: list[str] = field(default_factory=list)  # every code and token handed out (secrets)

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def _handler(fake: FakeGithub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: pytest shows failures, not every request
            pass

        def _send(self, status: int, body: str | dict, content_type: str = "application/json", headers=()):
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _record(self, query: dict) -> None:
            fake.seen.append(Seen(self.command, urlsplit(self.path).path, query, self.headers.get("Authorization")))

        def do_GET(self):
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self._record(query)
            if parts.path == "/login/oauth/authorize":
                return self._authorize(query)
            login = fake.tokens.get((self.headers.get("Authorization") or "").removeprefix("Bearer "))
            if login is None:
                return self._send(401, {"message": "Bad credentials"})
            if parts.path == "/user":
                return self._send(200, {"login": login, "id": abs(hash(login)) % 10**6, "type": "User"})
            if parts.path.startswith("/user/memberships/orgs/"):
                org = parts.path.rsplit("/", 1)[1]
                state = fake.members.get(login, {}).get(org)
                if state is None:
                    return self._send(404, {"message": "Not Found"})
                return self._send(200, {"state": state, "role": "member", "organization": {"login": org},
                                        "user": {"login": login}})
            return self._send(404, {"message": "Not Found"})

        def _authorize(self, query: dict):
            if query.get("client_id") != CLIENT_ID:
                return self._send(404, "unknown client", "text/plain")
            links = []
            for login in fake.members:
                code = secrets.token_hex(10)
                fake.codes[code] = {**query, "login": login}
                fake.issued.append(code)
                target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
                links.append(f'<li><a href="{html.escape(target)}">{html.escape(login)}</a></li>')
            page = f"<!doctype html><title>FakeHub</title><h1>Sign in to FakeHub as</h1><ul>{''.join(links)}</ul>"
            return self._send(200, page, "text/html; charset=utf-8")

        def do_POST(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._record({k: v for k, v in form.items() if k in ("client_id", "redirect_uri")})
            if parts.path != "/login/oauth/access_token":
                return self._send(404, {"message": "Not Found"})
            grant = fake.codes.pop(form.get("code", ""), None)
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return self._send(200, {"error": "incorrect_client_credentials"})
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                return self._send(200, {"error": "bad_verification_code"})
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant.get("code_challenge") and challenge != grant["code_challenge"]:
                return self._send(200, {"error": "bad_verification_code", "error_description": "PKCE"})
            token = "gho_" + secrets.token_hex(16)
            fake.tokens[token] = grant["login"]
            fake.issued.append(token)
            return self._send(200, {"access_token": token, "token_type": "bearer", "scope": grant.get("scope", "")})

    return Handler


class FakeGithubServer:
    def __init__(self, members: dict[str, dict[str, str]]):
        self.fake = FakeGithub(members)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.fake.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-github", daemon=True)

    def __enter__(self) -> FakeGithub:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
