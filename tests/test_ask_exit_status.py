"""`ask`'s exit status tells a script the truth, and a cut-off reply is one sentence whose advice
fits where the person is (`ask`: run it again or `ask -c`; chat: `/retry`)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from main import cli
from tests.standin import Fault, StandIn, replies
from tests.turn_kit import TimedSink, runner

FAST = "retry:\n  max_retries: 0\nollama:\n  auto_pull: 'false'\n"


def ask(host: str, data: Path, *args: str) -> Result:
    config = data.parent / "fast.yaml"
    config.write_text(FAST, encoding="utf-8")
    base = ["--config", str(config), "--host", host, "--data-dir", str(data), "ask"]
    return CliRunner().invoke(cli, [*base, *args])


def test_an_answer_from_the_cache_because_ollama_is_down_exits_3(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    first = ask(standin.url, data, "what are tides?")
    assert first.exit_code == 0, first.output
    url = standin.url
    standin.go_down()
    cached = ask(url, data, "what are tides?")
    assert cached.exit_code == 3, cached.output
    assert cached.stdout.strip() == first.stdout.strip()  # the older reply, shown
    assert "(cached — Ollama unavailable)" in cached.stderr
    as_json = ask(url, data, "--json", "what are tides?")
    assert as_json.exit_code == 3
    assert json.loads(as_json.stdout)["cached"] == "fallback"
    nothing = ask(url, data, "a question never asked")
    assert nothing.exit_code == 1 and "Cannot reach Ollama" in nothing.stderr


def test_ask_help_lists_every_exit_status() -> None:
    text = CliRunner().invoke(cli, ["ask", "--help"]).output
    assert "Exit status:" in text
    for code in ("0 ", "1 ", "2 ", "3 ", "130 "):
        assert f"\n    {code}" in text, code
    assert "from the cache" in text


def test_a_cut_off_reply_in_ask_is_one_sentence_without_retry_slash(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.reply = replies.essay(30)
    standin.script_fault("chat", Fault.cut(after=4))
    result = ask(standin.url, tmp_path / "d", "write")
    assert result.exit_code == 1
    notices = [line for line in result.stderr.splitlines() if "partial reply is kept" in line]
    assert len(notices) == 1, result.stderr
    line = notices[0].strip("[]")  # the terminal sink brackets a notice
    assert line.count("partial reply is kept") == 1 and "/retry" not in line
    assert line.startswith("The reply was cut off after ") and line.endswith(
        "the partial reply is kept — run the same command again to retry, or continue the "
        "session with `ask -c`."
    )
    assert "ask again" not in result.stderr


def test_a_cut_off_reply_in_chat_offers_retry_once(standin: StandIn, tmp_path: Path) -> None:
    standin.reply = replies.essay(30)
    standin.script_fault("chat", Fault.error_line(after=4, message="runner crashed"))
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(user_message="write")
    assert shared["turn"]["status"] == "partial"
    kept = [n for n in sink.notices if "partial reply is kept" in n]
    assert len(kept) == 1 and kept[0].count("partial reply is kept") == 1
    assert kept[0].endswith("the partial reply is kept — /retry regenerates it.")
