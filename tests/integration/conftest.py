"""What the write-back, reconcile and summary tests share: a token, GitHub faked at the HTTP level,
a runtime that writes with the token, and a throw-away GitHub App key."""

from __future__ import annotations

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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


def app_key() -> tuple[rsa.RSAPrivateKey, str]:
    """(private key, its PEM): a throw-away RSA key for a GitHub App's JWT."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return key, pem


def jwt_claims(call, key: rsa.RSAPrivateKey) -> dict:
    """The claims of the App JWT a recorded request carried, checked against the App's public key."""
    scheme, _, token = call.request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    return jwt.decode(token, key.public_key(), algorithms=["RS256"])
