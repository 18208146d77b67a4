from __future__ import annotations

from pathlib import Path

import pytest

from utils.ollama.quirks import DEFAULT, QuirksError, apply_quirks, load_quirks, quirks_for


def test_shipped_file_loads_and_matches_families() -> None:
    assert load_quirks()
    assert quirks_for("llama3.2:1b").name == "llama"
    assert quirks_for("codellama:7b").name == "codellama"
    assert quirks_for("deepseek-r1:8b").system_role == "prepend_to_first_user"
    assert quirks_for("hf.co/someone/gemma-2-2b:Q4").name == "gemma"
    assert quirks_for("nomic-embed-text").chat is False
    assert quirks_for("my-custom", family="qwen2").name == "qwen"
    assert quirks_for("unknown-thing") is DEFAULT


def test_apply_quirks_folds_system_and_session_wins() -> None:
    gemma = quirks_for("gemma3:1b")
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    out, opts = apply_quirks(messages, {"top_k": 5}, gemma, {"stop": ["X"]})
    assert out == [{"role": "user", "content": "Be brief.\n\nHi"}]
    assert opts == {"stop": ["X"], "top_k": 5}
    assert messages[1]["content"] == "Hi"  # input untouched
    mistral = quirks_for("mistral:7b")
    out, opts = apply_quirks(messages, {}, mistral, {"temperature": 0.1})
    assert out == messages and opts == {"temperature": 0.1}
    _, opts = apply_quirks(messages, {}, mistral)
    assert opts == {"temperature": 0.7}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("families: [{name: x, system_role: shout}]", "family 'x': 'system_role' must be one of"),
        ("families: [{name: x, temprature: 1}]", "family 'x': unknown key 'temprature'"),
        ("families: [{name: x, stop: 3}]", "'stop' must be a list of texts"),
        ("nothing: 1", "expected a 'families:' list"),
        ("families: [", "cannot read model quirks"),
    ],
)
def test_bad_yaml_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(QuirksError) as info:
        load_quirks(path)
    assert message in str(info.value) and "\n" not in str(info.value)
