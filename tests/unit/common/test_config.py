"""Settings: defaults, then a TOML file, then FELT_* variables, then explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.config import Settings, load, secret_of, token_keys


def test_defaults_without_file_or_env(tmp_path: Path) -> None:
    settings = load(env={"FELT_CONFIG": ""}, data_dir=str(tmp_path))
    assert settings.frontend_port == Settings().frontend_port
    assert settings.db_url() == f"sqlite:///{tmp_path / 'felt.db'}"


def test_file_then_env_then_overrides(tmp_path: Path) -> None:
    conf = tmp_path / "felt.toml"
    conf.write_text('frontend_port = 9000\nauth_timeout = 2.5\nrealtime_urls = ["http://a/sockjs"]\n'
                    'client_rate = 3.0\n')
    env = {"FELT_AUTH_TIMEOUT": "1.5", "FELT_GAMESERVERS": '{"x": "tcp://127.0.0.1:1"}',
           "FELT_ALLOWED_ORIGINS": "http://a, http://b"}
    settings = load(conf, env=env, client_rate=9.0)
    assert settings.frontend_port == 9000  # file
    assert settings.auth_timeout == 1.5  # env beats file
    assert settings.realtime_urls == ["http://a/sockjs"]
    assert settings.gameservers == {"x": "tcp://127.0.0.1:1"}
    assert settings.allowed_origins == ["http://a", "http://b"]
    assert settings.client_rate == 9.0  # override beats all


def test_unknown_file_setting_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "felt.toml"
    conf.write_text("frontend_prot = 1\n")
    with pytest.raises(ValueError, match="frontend_prot"):
        load(conf, env={})


@pytest.mark.parametrize(("name", "raw"), [("FELT_FRONTEND_PORT", "eighty"), ("FELT_GAMESERVERS", "[1]"),
                                           ("FELT_TOKEN_TTL", "soon")])
def test_bad_env_values_name_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=name):
        load(env={name: raw, "FELT_CONFIG": ""})


def test_generated_secret_is_stable_and_private(tmp_path: Path) -> None:
    settings = load(env={"FELT_CONFIG": ""}, data_dir=str(tmp_path))
    first = secret_of(settings)
    assert len(first) > 40 and first == secret_of(settings)
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    assert token_keys(settings) == {"k1": first}
    assert token_keys(settings.replace(token_keys={"k2": "new", "k1": "old"})) == {"k2": "new", "k1": "old"}
