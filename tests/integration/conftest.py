"""What the write-back, reconcile and summary tests share: a token, GitHub faked at the HTTP level,
a runtime that writes with the token, and a throw-away GitHub App key."""

from __future__ import annotations

import pytest
import responses

from tests.fake_trackers import FakeGithub

TOKEN = "ghp_test_token_not_real"


@pytest.fixture
def token_rt(make_runtime, settings):
    """A runtime with a GitHub token: it writes comments and reads through the (faked) API."""
    return make_runtime(settings.with_overrides(github_token=TOKEN))


@pytest.fixture
def github(rt):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeGithub(rsps)


def app_key():
    """(private key, its PEM): a throw-away RSA key for a GitHub App's JWT."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return key, pem
