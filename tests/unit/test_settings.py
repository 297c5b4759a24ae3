"""Settings: loading, provenance in error messages, secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfsync.errors import ConfigError
from sfsync.settings import Settings, load_settings, secret_values


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sfsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file() -> None:
    """No file and no variables give the embedded-emulator defaults."""
    settings = Settings()
    assert settings.default_org == "emulator"
    assert settings.org().auth == "emulator"
    assert settings.ledger.url == "sqlite:///var/sfsync.db"


def test_missing_default_file_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SFSYNC_CONFIG, a missing config/sfsync.toml means defaults."""
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).org().auth == "emulator"


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    """A config file named explicitly must exist."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"SFSYNC_CONFIG": str(tmp_path / "nope.toml")})


def test_file_and_environment_merge(tmp_path: Path) -> None:
    """Variables override the file, nested with '__', and secrets come from the environment."""
    path = _write(
        tmp_path,
        '[orgs.prod]\nauth = "client_credentials"\nclient_id = "key"\nlogin_host = "acme.my.salesforce.com"\n'
        "[ledger]\nlease_s = 60\n",
    )
    settings = load_settings(
        path, environ={"SFSYNC_ORGS__PROD__CLIENT_SECRET": "s3cret", "SFSYNC_LEDGER__LEASE_S": "15"}
    )
    prod = settings.org("prod")
    assert prod.client_secret is not None
    assert prod.client_secret.get_secret_value() == "s3cret"
    assert settings.ledger.lease_s == 15.0
    assert "emulator" in settings.orgs  # the embedded profile always exists
    assert "s3cret" not in repr(settings)


def test_secrets_directory(tmp_path: Path) -> None:
    """A secrets directory supplies secrets by variable name; the trailing newline is dropped."""
    path = _write(tmp_path, '[orgs.prod]\nauth = "client_credentials"\nclient_id = "key"\n')
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "SFSYNC_ORGS__PROD__CLIENT_SECRET").write_text("from-file\n", encoding="utf-8")
    settings = load_settings(path, environ={"SFSYNC_SECRETS_DIR": str(secrets)})
    assert secret_values(settings) == ["from-file"]


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    """A secret written in the TOML file fails and names the variable to use instead."""
    path = _write(tmp_path, '[orgs.prod]\nauth = "password"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert "orgs.prod.password is a secret" in message
    assert "SFSYNC_ORGS__PROD__PASSWORD" in message
    assert "hunter2" not in message


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    """A misspelt key is an error naming the key and the file."""
    path = _write(tmp_path, "[ledger]\nurll = 'sqlite://'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert "ledger.urll: unknown key" in str(info.value)
    assert str(path) in str(info.value)


def test_wrong_type_from_variable_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad value from the environment names the variable it came from."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"SFSYNC_LEDGER__LEASE_S": "soon"})
    assert "ledger.lease_s" in str(info.value)
    assert "environment variable SFSYNC_LEDGER__LEASE_S" in str(info.value)


def test_missing_secret_names_where_to_put_it(tmp_path: Path) -> None:
    """An org whose flow needs a secret that is absent fails at start with the variable name."""
    path = _write(tmp_path, '[orgs.prod]\nauth = "client_credentials"\nclient_id = "key"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert "needs client_secret" in str(info.value)
    assert "SFSYNC_ORGS__PROD__<KEY>" in str(info.value)


def test_jwt_needs_a_key(tmp_path: Path) -> None:
    """JWT bearer needs a private key from a secret or a file."""
    path = _write(tmp_path, '[orgs.prod]\nauth = "jwt"\nclient_id = "key"\nusername = "u@x.com"\n')
    with pytest.raises(ConfigError, match="private_key or private_key_file"):
        load_settings(path, environ={})


def test_unknown_default_org(tmp_path: Path) -> None:
    """default_org must name a profile."""
    path = _write(tmp_path, 'default_org = "prod"\n')
    with pytest.raises(ConfigError, match="default_org 'prod' is not one of the profiles"):
        load_settings(path, environ={})


def test_invalid_toml(tmp_path: Path) -> None:
    """A syntax error names the file."""
    path = _write(tmp_path, "[ledger\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})


def test_bad_literal_value(tmp_path: Path) -> None:
    """A value outside its choices is rejected with the key."""
    path = _write(tmp_path, '[logging]\nformat = "xml"\n')
    with pytest.raises(ConfigError, match=r"logging\.format"):
        load_settings(path, environ={})


def test_password_hash_must_be_argon2id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Web passwords are stored only as argon2id hashes."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="argon2id"):
        load_settings(environ={"SFSYNC_WEB__ADMIN_PASSWORD_HASH": "plaintext"})


def test_unknown_org_profile() -> None:
    """Asking for a profile that does not exist is a ConfigError listing the known ones."""
    with pytest.raises(ConfigError, match="known: emulator"):
        Settings().org("prod")


def test_shipped_config_file_is_valid() -> None:
    """config/sfsync.toml in the repository loads."""
    settings = load_settings(Path(__file__).parents[2] / "config" / "sfsync.toml", environ={})
    assert settings.default_org == "emulator"
