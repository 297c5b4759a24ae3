"""Token endpoint, identity URL and userinfo (Part 2 §1), over real HTTPS."""

from __future__ import annotations

import base64
import re

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfsync.emulator.harness import EmulatorHandle

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _token(
    emu: EmulatorHandle, data: dict[str, str], headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.post(
        emu.login_url + "/services/oauth2/token",
        data=data,
        headers=headers,
        verify=str(emu.ca_path),
        timeout=10,
    )


def _works(emu: EmulatorHandle, token: str) -> bool:
    resp = requests.get(
        emu.base_url + "/services/data/v66.0/limits",
        headers={"Authorization": f"Bearer {token}"},
        verify=str(emu.ca_path),
        timeout=10,
    )
    return resp.status_code == 200


def test_jwt_bearer_success_has_no_issued_at(emu: EmulatorHandle) -> None:
    """JWT answers carry access_token, scope, instance_url, id, token_type and nothing signed."""
    resp = _token(emu, {"grant_type": JWT_GRANT, "assertion": emu.jwt_assertion()})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"access_token", "scope", "instance_url", "id", "token_type"}
    assert body["instance_url"] == emu.base_url
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith(emu.org.org_id[:15] + "!")
    assert body["id"] == f"{emu.base_url}/id/{emu.org.org_id}/{emu.org.user_id}"
    assert _works(emu, body["access_token"])


def test_client_credentials_basic_and_body(emu: EmulatorHandle) -> None:
    """Client credentials work with HTTP Basic and with body fields; 13-digit issued_at and a signature."""
    basic = base64.b64encode(f"{emu.client_id}:{emu.client_secret}".encode()).decode()
    for resp in (
        _token(emu, {"grant_type": "client_credentials"}, {"Authorization": f"Basic {basic}"}),
        _token(
            emu,
            {
                "grant_type": "client_credentials",
                "client_id": emu.client_id,
                "client_secret": emu.client_secret,
            },
        ),
    ):
        assert resp.status_code == 200
        body = resp.json()
        assert re.fullmatch(r"\d{13}", body["issued_at"])
        assert base64.b64decode(body["signature"])
        assert body["scope"] == "api"
        assert _works(emu, body["access_token"])


def test_password_grant(emu: EmulatorHandle) -> None:
    """The username-password flow answers without scope, with issued_at and signature."""
    resp = _token(
        emu,
        {"grant_type": "password", "client_id": emu.client_id, "client_secret": emu.client_secret,
         "username": emu.username, "password": emu.password},
    )  # fmt: skip
    assert resp.status_code == 200
    assert "scope" not in resp.json()
    assert {"issued_at", "signature"} <= set(resp.json())


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    ("case", "error", "description"),
    [
        ("wrong signature", "invalid_grant", "invalid assertion"),
        ("wrong issuer", "invalid_client_id", "client identifier invalid"),
        ("unknown user", "invalid_grant", "user hasn't approved this consumer"),
        ("wrong audience", "invalid_grant", "audience is invalid"),
        ("expired", "invalid_grant", "expired assertion"),
        ("garbage", "invalid_grant", "invalid assertion"),
    ],
)
def test_jwt_errors(emu: EmulatorHandle, case: str, error: str, description: str) -> None:
    """Each bad assertion answers 400 with Salesforce's {error, error_description}."""
    claims = {"iss": emu.client_id, "sub": emu.username, "aud": emu.login_url,
              "exp": int(emu.org.clock.now().timestamp()) + 180}  # fmt: skip
    key = emu.private_key_pem
    assert key is not None
    if case == "wrong signature":
        key = _other_key()
    elif case == "wrong issuer":
        claims["iss"] = "someone-else"
    elif case == "unknown user":
        claims["sub"] = "nobody@example.com"
    elif case == "wrong audience":
        claims["aud"] = "https://example.com"
    elif case == "expired":
        claims["exp"] = int(emu.org.clock.now().timestamp()) - 1
    assertion = "not.a.jwt" if case == "garbage" else jwt.encode(claims, key, algorithm="RS256")
    resp = _token(emu, {"grant_type": JWT_GRANT, "assertion": assertion})
    assert resp.status_code == 400
    assert resp.json() == {"error": error, "error_description": description}


@pytest.mark.parametrize(
    ("data", "error", "description"),
    [
        ({"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"}, "invalid_client_id",
         "client identifier invalid"),
        ({"grant_type": "client_credentials", "client_id": "CID", "client_secret": "wrong"}, "invalid_client",
         "invalid client credentials"),
        ({"grant_type": "password", "client_id": "CID", "client_secret": "SECRET", "username": "USER",
          "password": "wrong"}, "invalid_grant", "authentication failure"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type", "grant type not supported"),
    ],
)  # fmt: skip
def test_token_errors(emu: EmulatorHandle, data: dict[str, str], error: str, description: str) -> None:
    """Wrong client, wrong secret, wrong password and unknown grants answer 400 with the documented pairs."""
    filled = {k: v.replace("CID", emu.client_id).replace("SECRET", emu.client_secret).replace("USER", emu.username)
              for k, v in data.items()}  # fmt: skip
    resp = _token(emu, filled)
    assert resp.status_code == 400
    assert resp.json() == {"error": error, "error_description": description}


def test_identity_and_userinfo(emu: EmulatorHandle) -> None:
    """The identity URL and userinfo answer with URLs on the emulator's own host and port."""
    token = emu.access_token()
    headers = {"Authorization": f"Bearer {token}"}
    identity = requests.get(
        f"{emu.base_url}/id/{emu.org.org_id}/{emu.org.user_id}",
        headers=headers,
        verify=str(emu.ca_path),
        timeout=10,
    )
    assert identity.status_code == 200
    assert identity.json()["username"] == emu.username
    assert identity.json()["urls"]["rest"].startswith(emu.base_url + "/services/data/v")
    info = requests.get(
        emu.base_url + "/services/oauth2/userinfo", headers=headers, verify=str(emu.ca_path), timeout=10
    )
    assert info.status_code == 200
    assert info.json()["preferred_username"] == emu.username
    assert info.json()["profile"].startswith(emu.base_url)
    anonymous = requests.get(emu.base_url + "/services/oauth2/userinfo", verify=str(emu.ca_path), timeout=10)
    assert anonymous.status_code == 401
