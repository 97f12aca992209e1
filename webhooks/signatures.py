"""HMAC-SHA256 signatures over the raw body, checked before anything is parsed.

GitHub: `X-Hub-Signature-256: sha256=<hex>`
(https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
Jira: `X-Hub-Signature: <method>=<hex>`, the WebSub form; only sha256 is accepted
(https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks).

The header is the attacker's text: its shape is checked (ASCII, one value, 64 hex digits) before it
is compared, so a non-ASCII, duplicated or overlong header is a plain 401, never a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from .errors import SignatureError

MAX_HEADER_CHARS = 200  # "sha256=" and 64 hex digits need 71; a longer value is not a signature
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def sign(secret: str, body: bytes) -> str:
    """The `sha256=<hex>` header value for `body` (used by tests, replay and the benchmark)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _digest(header_name: str, header: str | None) -> str:
    """The hex digest of a well-formed header; SignatureError (401) for any other shape."""
    if not header:
        raise SignatureError(f"missing {header_name} header")
    if len(header) > MAX_HEADER_CHARS:
        raise SignatureError(f"malformed {header_name} header: longer than {MAX_HEADER_CHARS} characters")
    if not header.isascii():
        raise SignatureError(f"malformed {header_name} header: not ASCII")
    if "," in header:  # a repeated header reaches WSGI as the values joined by commas
        raise SignatureError(f"malformed {header_name} header: more than one value")
    method, sep, digest = header.strip().partition("=")
    if not sep or not digest:
        raise SignatureError(f"malformed {header_name} header: expected <method>=<hex digest>")
    if method.lower() != "sha256":
        raise SignatureError(f"unsupported signature method {method[:20]!r} in {header_name}: only sha256")
    if not _HEX_DIGEST.fullmatch(digest):
        raise SignatureError(f"malformed {header_name} header: the sha256 digest must be 64 hex digits")
    return digest.lower()


def verify(body: bytes, header_name: str, header: str | None, secrets: tuple[str, ...]) -> None:
    """Raise SignatureError unless `header` is a sha256 signature of `body` by one of `secrets`.

    Two secrets may be given so that a secret can be rotated without missing a delivery.
    """
    digest = _digest(header_name, header)
    good = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        # no early exit: each secret is compared, in constant time
        good |= hmac.compare_digest(expected, digest)
    if not good:
        raise SignatureError(f"{header_name} does not match the body for any configured secret")
