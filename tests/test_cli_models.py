from __future__ import annotations

from dataclasses import dataclass

import structlog
from click.testing import CliRunner

from cli.models import models
from config.settings import OllamaSettings, Settings
from tests.standin import Fault, StandIn
from utils.clock import SystemClock
from utils.ollama import OllamaService


@dataclass
class Obj:
    service: OllamaService
    settings: Settings

    def llm(self) -> OllamaService:
        return self.service


def run(standin: StandIn, *args: str) -> tuple[int, str]:
    fast = OllamaSettings(connect_timeout=0.3, first_byte_timeout=1.0, chunk_timeout=0.5)
    obj = Obj(OllamaService(standin.url, fast, SystemClock()), Settings())
    with structlog.testing.capture_logs():  # the app's logging goes to stderr/file
        result = CliRunner().invoke(models, list(args), obj=obj)
    return result.exit_code, result.output


def test_list(standin: StandIn) -> None:
    code, out = run(standin, "list")
    assert code == 0
    assert "qwen2.5:0.5b" in out and "Q4_K_M" in out and "494.03M" in out


def test_show(standin: StandIn) -> None:
    code, out = run(standin, "show", "qwen2.5:0.5b")
    assert code == 0 and "32768" in out and "Qwen family" in out


def test_pull_plain_lines_when_not_a_tty(standin: StandIn) -> None:
    code, out = run(standin, "pull", "phi3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "pulling manifest" and "success" in lines and lines[-1] == "Pulled phi3."
    assert len(lines) == len(set(lines))


def test_errors_are_one_line_exit_1(standin: StandIn) -> None:
    code, out = run(standin, "show", "ghost")
    assert code == 1 and "Model 'ghost' is not installed" in out and "ollama pull ghost" in out
    assert "Traceback" not in out
    standin.registry_unknown.add("ghost")
    code, out = run(standin, "pull", "ghost")
    assert code == 1 and "Pulling 'ghost' failed" in out
    standin.script_fault("tags", Fault.status(500, "disk on fire"))
    code, out = run(standin, "list")
    assert code == 1 and "disk on fire" in out
    standin.go_down()
    code, out = run(standin, "list")
    assert code == 1 and "Cannot reach Ollama" in out and standin.url in out
    assert len(out.strip().splitlines()) == 1
