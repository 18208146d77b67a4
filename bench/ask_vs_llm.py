"""`ask` one-shot side by side with simonw's `llm` (and its `llm-ollama` plugin), same server.

Set-up: `llm` and `llm-ollama` are installed into a bench-only venv, `bench/.llm-venv/` (ignored
by git), the first time; without a network the bench says so in a row instead of failing.
pocketchat is measured as a person installs it: `pip install .` (runtime dependencies only, not
the dev tools, some of which — selenium's trio, import-linter's rich — other libraries import
when present) into `bench/.ask-venv/`, the project itself reinstalled on every run so the code is
this tree's. Both talk to one stand-in with a short fixed reply: `pocketchat ask hi` (a fresh
data dir) and
`llm -m MODEL -n hi` (`LLM_USER_PATH` in a temp dir, so the home dir is never touched; `-n`: no
log). Each is run once to warm up (and its output checked), then RUNS times interleaved; medians
of whole-process wall time. Both sides keep their bytecode caches (PYTHONDONTWRITEBYTECODE is
dropped), as a person's install does.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Row, row, target
from tests.standin import StandIn, replies

RUNS = 10
MODEL = "llama3.2:1b"
REPLY = "Hello there."
TARGET = 0.5
VENV = ROOT / "bench" / ".llm-venv"
LLM = VENV / "bin" / "llm"
ASK_VENV = ROOT / "bench" / ".ask-venv"
POCKETCHAT = ASK_VENV / "bin" / "pocketchat"


def _install_ours() -> str | None:
    """This tree installed as a person would (`pip install .`) into bench/.ask-venv; None when
    ready, else why not (one line)."""
    pip = [str(ASK_VENV / "bin" / "pip"), "install", "--quiet"]
    try:
        if not POCKETCHAT.exists():
            subprocess.run([sys.executable, "-m", "venv", str(ASK_VENV)], check=True,
                           capture_output=True, timeout=300)  # fmt: skip
            subprocess.run([*pip, str(ROOT)], check=True, capture_output=True, text=True,
                           timeout=900)  # fmt: skip
        else:  # the dependencies are there: only this tree's code again
            subprocess.run([*pip, "--no-deps", "--force-reinstall", str(ROOT)], check=True,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] if isinstance(exc.stderr, str) else []
        return f"cannot pip install pocketchat ({' '.join(tail) or exc})"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot pip install pocketchat ({type(exc).__name__}: {exc})"
    return None


def _install() -> str | None:
    """Build the bench-only venv if needed; None when ready, else why not (one line)."""
    if LLM.exists():
        return None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "llm", "llm-ollama"],
                       check=True, capture_output=True, text=True, timeout=900)  # fmt: skip
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] if isinstance(exc.stderr, str) else []
        return f"cannot install llm + llm-ollama ({' '.join(tail) or exc}): no network?"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot install llm + llm-ollama ({type(exc).__name__}: {exc})"
    return None if LLM.exists() else "pip ran, but bench/.llm-venv/bin/llm is missing"


def _model_id(env: dict[str, str]) -> str:
    """The id llm-ollama gives MODEL (it lists /api/tags; recent versions add `ollama/`)."""
    listed = subprocess.run([str(LLM), "models"], env=env, capture_output=True, text=True,
                            check=True, timeout=60).stdout  # fmt: skip
    for line in listed.splitlines():
        if line.startswith("Ollama:"):
            name = line.removeprefix("Ollama:").strip().split(" ")[0]
            if name.endswith(MODEL):
                return name
    raise RuntimeError(f"llm-ollama does not list {MODEL}: {listed.strip()[-200:]}")


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[-3:])}: exit {done.returncode}: {done.stderr[-300:]}")
    return elapsed, done.stdout


def run() -> list[Row]:
    problem = _install() or _install_ours()
    if problem is not None:
        return [row("ask_vs_llm", "llm not available", 0, "", problem)]
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp, StandIn() as standin:
        standin.reply = replies.fixed(REPLY)
        env = {**base, "HOME": tmp, "XDG_DATA_HOME": tmp, "OLLAMA_HOST": standin.url}
        ours_env = {**env, "POCKETCHAT_DATA_DIR": str(Path(tmp) / "pocketchat")}
        llm_env = {**env, "LLM_USER_PATH": str(Path(tmp) / "llm")}
        ours = [str(POCKETCHAT), "ask", "hi"]
        theirs = [str(LLM), "-m", _model_id(llm_env), "-n", "hi"]
        for args, side_env in ((ours, ours_env), (theirs, llm_env)):  # warm up, check output
            _, out = _timed(args, side_env)
            if REPLY not in out:
                raise RuntimeError(f"{args[-4:]} printed {out!r}, not the stand-in's reply")
        ours_s: list[float] = []
        theirs_s: list[float] = []
        for _ in range(RUNS):
            ours_s.append(_timed(ours, ours_env)[0])
            theirs_s.append(_timed(theirs, llm_env)[0])
    a, b = statistics.median(ours_s), statistics.median(theirs_s)
    ratio = a / b
    return [
        row("ask_vs_llm", "pocketchat ask hi", a * 1000, "ms",
            f"median of {RUNS}, interleaved; `pip install .` (runtime dependencies)"),
        row("ask_vs_llm", f"llm -m {MODEL} hi (llm-ollama)", b * 1000, "ms", f"median of {RUNS}"),
        row("ask_vs_llm", "ask / llm", ratio, "x", target(ratio, TARGET, at_most=True)),
    ]
