"""`okrbot replay FILE...`: saved webhook bodies through the same path as live deliveries.

Each body is signed with the configured secret and posted to the receiver: in-process by default (the
stored delivery is then processed by whatever consumer runs: `okrbot serve`, `okrbot worker`), or to
a running instance with `--url`. The delivery id is derived from the body, so replaying a file twice
stores it once; `--fresh` gives every post a new id.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import click

from webhooks.signatures import sign

from ..web.app import create_app
from .common import runtime_from_env

TRACKERS = ("github", "jira")


def infer(path: Path) -> tuple[str | None, str | None]:
    """(tracker, event) from a `.../github/<event>/file.json` or `.../jira/<event>/file.json` path."""
    parts = path.resolve().parts
    for i in range(len(parts) - 2, 0, -1):
        if parts[i - 1] in TRACKERS:
            return parts[i - 1], parts[i]
    return None, None


def build_request(tracker: str, event: str | None, body: bytes, secret: str | None,
                  fresh: bool) -> dict[str, str]:
    digest = hashlib.sha256(body).hexdigest()[:32]
    delivery_id = f"replay-{uuid.uuid4()}" if fresh else f"replay-{digest}"
    headers = {"Content-Type": "application/json", "User-Agent": "okrbot-replay"}
    if tracker == "github":
        if not event:
            raise click.UsageError("the GitHub event is unknown: pass --event or use a github/<event>/ path")
        headers |= {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id}
        if secret:
            headers["X-Hub-Signature-256"] = sign(secret, body)
    else:
        headers["X-Atlassian-Webhook-Identifier"] = delivery_id
        if secret:
            headers["X-Hub-Signature"] = sign(secret, body)
    return headers


def _post_http(url: str, tracker: str, body: bytes, headers: dict) -> tuple[int, str]:
    req = urllib.request.Request(f"{url.rstrip('/')}/webhooks/{tracker}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tracker", type=click.Choice(TRACKERS), help="default: from a github/ or jira/ path")
@click.option("--event", help="GitHub event (X-GitHub-Event); default: from a github/<event>/ path")
@click.option("--url", help="post to a running okrbot at this base URL instead of in-process")
@click.option("--fresh", is_flag=True, help="a new delivery id for every post (default: derived from the body)")
def replay(files: tuple[Path, ...], tracker: str | None, event: str | None, url: str | None, fresh: bool):
    """Feed saved webhook bodies through the receiver, as if the tracker had sent them."""
    rt = runtime_from_env()
    client = None
    if not url:
        client = create_app(rt.settings, runtime=rt).test_client()
    failures = 0
    try:
        for path in files:
            status, text = _replay_one(rt, client, url, path, tracker, event, fresh)
            failures += status >= 300 and status != 200
            click.echo(f"{path}: {status} {text.strip()}")
    finally:
        rt.close()
    if failures:
        raise click.ClickException(f"{failures} of {len(files)} deliveries were not accepted")


def _replay_one(rt, client, url, path: Path, tracker, event, fresh) -> tuple[int, str]:
    guessed_tracker, guessed_event = infer(path)
    tracker = tracker or guessed_tracker
    if tracker is None:
        raise click.UsageError(f"{path}: the tracker is unknown: pass --tracker or use a github/ or jira/ path")
    body = path.read_bytes()
    secrets = rt.settings.github_webhook_secrets if tracker == "github" else rt.settings.jira_webhook_secrets
    headers = build_request(tracker, event or guessed_event, body, secrets[0] if secrets else None, fresh)
    if url:
        return _post_http(url, tracker, body, headers)
    response = client.post(f"/webhooks/{tracker}", data=body, headers=headers)
    text = response.get_data(as_text=True) or ""
    return response.status_code, json.dumps(response.get_json(silent=True)) if text else ""
