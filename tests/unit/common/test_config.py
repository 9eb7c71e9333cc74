"""Settings: defaults, then a TOML file, then FELT_* variables, then explicit overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from common.config import NOT_NEGATIVE, PORTS, POSITIVE, Settings, load, secret_of, token_keys


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


def test_file_values_are_converted_to_the_field_types(tmp_path: Path) -> None:
    conf = tmp_path / "felt.toml"
    conf.write_text("auth_timeout = 2\ngameservers = { g7 = \"tcp://127.0.0.1:7\" }\n")
    settings = load(conf, env={})
    assert settings.auth_timeout == 2.0 and isinstance(settings.auth_timeout, float)
    assert settings.gameservers == {"g7": "tcp://127.0.0.1:7"}


def test_env_text_is_converted_to_the_field_types() -> None:
    settings = load(env={"FELT_CONFIG": "", "FELT_FRONTEND_PORT": "9001", "FELT_CLIENT_RATE": "2.5",
                         "FELT_REALTIME_URLS": "http://a/sockjs,,http://b/sockjs "})
    assert settings.frontend_port == 9001 and settings.client_rate == 2.5
    assert settings.realtime_urls == ["http://a/sockjs", "http://b/sockjs"]


@pytest.mark.parametrize(("toml", "message"), [
    ('auth_timeout = "soon"', 'auth_timeout: expected a number, got "soon"'),
    ('gameservers = ["tcp://127.0.0.1:5601"]',
     'gameservers: expected a mapping of names to strings, got ["tcp://127.0.0.1:5601"]'),
    ("gameservers = { g1 = 5601 }", 'gameservers: expected a mapping of names to strings, got {"g1":5601}'),
    ('frontend_port = "8000"', 'frontend_port: expected an integer, got "8000"'),
    ("frontend_port = 80.5", "frontend_port: expected an integer, got 80.5"),
    ("max_tables = true", "max_tables: expected an integer, got true"),
    ("secret = 12", "secret: expected a string, got 12"),
    ('realtime_urls = "http://a/sockjs"', 'realtime_urls: expected a list of strings, got "http://a/sockjs"'),
    ("realtime_urls = [1, 2]", "realtime_urls: expected a list of strings, got [1,2]"),
    ("auth_timeout = -1", "auth_timeout: must be more than 0, got -1.0"),
    ("request_timeout = 0", "request_timeout: must be more than 0, got 0.0"),
    ("client_rate = 0", "client_rate: must be more than 0, got 0.0"),
    ("chat_rate = 0.0", "chat_rate: must be more than 0, got 0.0"),
    ("heartbeat_liveness = 0", "heartbeat_liveness: must be more than 0, got 0"),
    ("grace_period = -5", "grace_period: must not be negative, got -5.0"),
    ("starting_chips = -1", "starting_chips: must not be negative, got -1"),
    ("frontend_port = 0", "frontend_port: must be a port number from 1 to 65535, got 0"),
    ("realtime_port = 70000", "realtime_port: must be a port number from 1 to 65535, got 70000"),
])
def test_wrong_file_values_are_refused_naming_the_file_and_the_setting(tmp_path: Path, toml: str,
                                                                       message: str) -> None:
    conf = tmp_path / "felt.toml"
    conf.write_text(toml + "\n")
    with pytest.raises(ValueError) as refused:
        load(conf, env={})
    assert str(refused.value) == f"{conf}: {message}"


def test_a_file_that_is_not_toml_is_refused_naming_it(tmp_path: Path) -> None:
    conf = tmp_path / "felt.toml"
    conf.write_text("auth_timeout = \n")
    with pytest.raises(ValueError, match=f"^{conf}: not valid TOML"):
        load(conf, env={})


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("FELT_FRONTEND_PORT", "eighty", 'frontend_port: expected an integer, got "eighty"'),
    ("FELT_FRONTEND_PORT", "0", "frontend_port: must be a port number from 1 to 65535, got 0"),
    ("FELT_TOKEN_TTL", "soon", 'token_ttl: expected a number, got "soon"'),
    ("FELT_TOKEN_TTL", "-60", "token_ttl: must be more than 0, got -60.0"),
    ("FELT_AUTH_TIMEOUT", "nan", "auth_timeout: must be more than 0, got nan"),
    ("FELT_GAMESERVERS", "[1]", "gameservers: expected a JSON object, got [1]"),
    ("FELT_GAMESERVERS", "{g1: 5601}", 'gameservers: expected a JSON object, got "{g1: 5601}"'),
    ("FELT_GAMESERVERS", '{"g1": 5601}',
     'gameservers: expected a mapping of names to strings, got {"g1":5601}'),
    ("FELT_BOT_DELAY", "-0.5", "bot_delay: must not be negative, got -0.5"),
])
def test_wrong_env_values_are_refused_naming_the_variable(name: str, raw: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        load(env={name: raw, "FELT_CONFIG": ""})
    assert str(refused.value) == f"{name}: {message}"


def test_an_env_value_overrides_a_wrong_file_value_only_if_the_file_is_right(tmp_path: Path) -> None:
    conf = tmp_path / "felt.toml"
    conf.write_text('auth_timeout = "soon"\n')
    with pytest.raises(ValueError, match="auth_timeout"):  # the file is wrong, whatever the environment says
        load(conf, env={"FELT_AUTH_TIMEOUT": "2"})


def test_wrong_overrides_are_refused_too() -> None:
    with pytest.raises(ValueError, match="^load\\(\\) argument: client_rate: must be more than 0"):
        load(env={"FELT_CONFIG": ""}, client_rate=0)
    with pytest.raises(ValueError, match="gameservers: expected a mapping"):
        load(env={"FELT_CONFIG": ""}, gameservers=["tcp://127.0.0.1:1"])
    with pytest.raises(TypeError):
        load(env={"FELT_CONFIG": ""}, no_such_setting=1)


def test_every_range_check_names_a_real_setting() -> None:
    names = {f.name for f in dataclasses.fields(Settings)}
    assert POSITIVE | NOT_NEGATIVE | PORTS <= names
    assert not (POSITIVE & NOT_NEGATIVE or POSITIVE & PORTS or NOT_NEGATIVE & PORTS)


def test_generated_secret_is_stable_and_private(tmp_path: Path) -> None:
    settings = load(env={"FELT_CONFIG": ""}, data_dir=str(tmp_path))
    first = secret_of(settings)
    assert len(first) > 40 and first == secret_of(settings)
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    assert token_keys(settings) == {"k1": first}
    assert token_keys(settings.replace(token_keys={"k2": "new", "k1": "old"})) == {"k2": "new", "k1": "old"}
