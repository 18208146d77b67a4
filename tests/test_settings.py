"""Settings layers: defaults, user file, environment, flags; one clear line on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings, with_changes


def test_defaults() -> None:
    s = load_settings(env={})
    assert s.model == "llama3.2:1b"
    assert s.ollama_host == "http://127.0.0.1:11434"
    assert s.retry.max_retries == 4


def test_layers_in_order(tmp_path: Path) -> None:
    user = tmp_path / "user.yaml"
    user.write_text("model: from-file\nchat:\n  window: 10\n")
    env = {"POCKETCHAT_MODEL": "from-env", "OLLAMA_HOST": "http://h:1"}
    s = load_settings(user, env=env, overrides={"host": "http://flag:2"})
    assert s.model == "from-env"
    assert s.chat.window == 10
    assert s.chat.stream_min_chars == 50  # untouched keys keep their defaults
    assert s.ollama_host == "http://flag:2"
    assert s.sources[-2:] == ("environment", "command line")


def test_config_from_environment_variable(tmp_path: Path) -> None:
    user = tmp_path / "c.yaml"
    user.write_text("flow: rag\n")
    assert load_settings(env={"POCKETCHAT_CONFIG": str(user)}).flow == "rag"


def test_data_dir_defaults_to_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert load_settings(env={}).data_path == tmp_path / "pocketchat"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model: [a", "invalid YAML"),
        ("modle: x", "unknown setting 'modle' (did you mean 'model'?)"),
        ("chat:\n  windw: 3", "unknown setting 'chat.windw' (did you mean 'chat.window'?)"),
        ("chat:\n  window: many", "'chat.window' must be a whole number, got 'many'"),
        ("retry: 3", "'retry' must be a mapping of settings"),
        ("- a\n- b", "expected a mapping of settings"),
    ],
)
def test_bad_settings_name_file_key_and_expectation(
    tmp_path: Path, text: str, expected: str
) -> None:
    user = tmp_path / "bad.yaml"
    user.write_text(text)
    with pytest.raises(SettingsError) as info:
        load_settings(user, env={})
    message = str(info.value)
    assert str(user) in message
    assert expected in message
    assert "\n" not in message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read the config file"):
        load_settings(tmp_path / "missing.yaml", env={})


def test_with_changes_checks_types() -> None:
    s = with_changes(load_settings(env={}), **{"chat.window": 7})
    assert s.chat.window == 7
    with pytest.raises(SettingsError):
        with_changes(s, **{"chat.window": "x"})
