"""HMAC-SHA256 signatures over the raw body, checked before anything is parsed.

GitHub: `X-Hub-Signature-256: sha256=<hex>`
(https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
Jira: `X-Hub-Signature: <method>=<hex>`, the WebSub form; only sha256 is accepted
(https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks).
"""

from __future__ import annotations

import hashlib
import hmac

from .errors import SignatureError


def sign(secret: str, body: bytes) -> str:
    """The `sha256=<hex>` header value for `body` (used by tests, replay and the benchmark)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header_name: str, header: str | None, secrets: tuple[str, ...]) -> None:
    """Raise SignatureError unless `header` is a sha256 signature of `body` by one of `secrets`.

    Several secrets are tried so that a secret can be rotated without missing a delivery.
    """
    if not header:
        raise SignatureError(f"missing {header_name} header")
    method, sep, digest = header.strip().partition("=")
    if not sep or not digest:
        raise SignatureError(f"malformed {header_name} header: expected <method>=<hex digest>")
    if method.lower() != "sha256":
        raise SignatureError(f"unsupported signature method {method[:20]!r} in {header_name}: only sha256")
    good = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        # no early exit: each secret is compared, in constant time
        good |= hmac.compare_digest(expected, digest.lower())
    if not good:
        raise SignatureError(f"{header_name} does not match the body for any configured secret")
