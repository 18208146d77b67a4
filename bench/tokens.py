"""Token estimates against the stand-in's tokenizer, before and after calibration.

A varied corpus (prose, chat, code, numbers, JSON, German, CJK, URLs) is replayed as a
conversation: each turn's prompt is the system prompt plus the last messages. The first
turns calibrate the factor exactly as CalibrateTokens does (`Calibration.updated` with the
stand-in's count as `prompt_eval_count`); the error is then measured on the later turns, by
the raw heuristic, the calibrated estimate and a naive words x 1.3 baseline. Also: the cost
of cutting a 1 MB paste, as a multiple of one estimating pass over it.

On that corpus the heuristic already agrees with the stand-in, so calibration has little to
show. A second, all-CJK conversation is where they disagree most (stand-in / heuristic tokens,
measured: code with long identifiers 1.03, number-heavy logs 0.86, CJK 0.32): the heuristic
counts CJK as about one token per character (as real BPE tokenizers roughly do), the stand-in
as one per four, so it over-counts about threefold on the text and twofold on whole prompts
(an English system prompt, template tokens). It goes through the stored path CalibrateTokens
takes (`utils.context.calibration.looks_truncated`, `record` into a temporary database, `load`) and
reports the error before and after the calibration turns: how fast calibration corrects a
heuristic that is off, not how accurate the heuristic is on CJK.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import structlog

from bench.common import Row, row
from tests.standin.tokenizer import message_tokens
from utils.clock import SystemClock
from utils.context import Calibration, cut_text, estimate_text, raw_prompt
from utils.context import calibration as stored
from utils.store import SqliteStore

BENCH = "tokens"
CALIBRATION_TURNS = 5
WINDOW = 6

CORPUS = [
    "Hi! Can you help me plan a week of vegetarian dinners?",
    "Of course. Monday: lentil soup with crusty bread. Tuesday: a chickpea curry with rice.",
    "def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)",
    "That recursive version is exponential; memoise it with functools.lru_cache(maxsize=None).",
    "What is 12345 * 6789? And 2**32 - 1 = 4294967295, right?",
    "12345 × 6789 = 83,810,205. Yes: 4,294,967,295 is the largest unsigned 32-bit integer.",
    'Parse this: {"user": {"id": 42, "tags": ["a", "b"], "active": true}}',
    "The object has one key, user, holding an id (42), a list of two tags and a flag.",
    "Wie funktioniert eigentlich die Fresnel-Linse in einem Leuchtturm?",
    "Sie bündelt das Licht mit konzentrischen Prismenringen statt einer dicken Linse.",
    "请用中文简单介绍一下灯塔的历史。",
    "灯塔最早出现在古代地中海，亚历山大灯塔是最著名的例子之一。",
    "See https://example.org/docs/v2/api?lang=en&page=3#section-4 for the details.",
    "Thanks — the page explains pagination, rate limits (60 req/min) and error codes.",
    "ok",
    "Anything else?",
    "Summarise our conversation so far in three bullet points, please.",
    "- Dinners planned\n- Code reviewed: memoised Fibonacci\n- Questions on lighthouses answered",
    "internationalisation, characterisation and counterrevolutionaries are long words.",
    "Short words: a, an, the, it, is, on, in, at, to, of, and, or, but.",
]

CJK_CORPUS = [
    "请用中文简单介绍一下灯塔的历史。",
    "灯塔最早出现在古代地中海，亚历山大灯塔是最著名的例子之一。",
    "现在的灯塔还需要守塔人吗？",
    "大多数灯塔已经自动化了，只有少数还有人值守。",
    "东京的地铁系统非常复杂，外国游客应该怎么买票？",
    "可以买一张交通卡，在自动售票机上充值，进站时刷卡即可。",
    "日本語の文章はどうやって書きますか。",
    "ひらがなとカタカナと漢字を組み合わせて書きます。",
    "帮我写一封简短的请假邮件，明天上午要去医院。",
    "王经理您好：我明天上午需要去医院复诊，想请半天假，下午回来上班。谢谢！",
    "谢谢，再把它改得正式一点。",
    "尊敬的王经理：因明日上午需前往医院复诊，特申请事假半天，望批准。此致敬礼。",
]
CJK_MODEL = "bench-cjk"


def _prompts(corpus: list[str] = CORPUS) -> list[list[dict[str, str]]]:
    system = {"role": "system", "content": "You are a concise, friendly assistant."}
    roles = ("user", "assistant")
    messages = [{"role": roles[i % 2], "content": c} for i, c in enumerate(corpus * 2)]
    return [[system, *messages[max(0, i - WINDOW) : i + 1]] for i in range(len(messages))]


def _actual(prompt: list[dict[str, str]]) -> int:
    return sum(message_tokens(m) for m in prompt)


def _error(estimated: float, actual: int) -> float:
    return abs(estimated - actual) * 100.0 / actual


def _cjk_rows() -> list[Row]:
    """The CJK conversation, calibrated through the database as CalibrateTokens does."""
    prompts = _prompts(CJK_CORPUS)
    train, test = prompts[:CALIBRATION_TURNS], prompts[CALIBRATION_TURNS:]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore.open(Path(tmp) / "bench.db", SystemClock())
        try:
            before = stored.load(store, CJK_MODEL)
            for prompt in train:
                known = stored.load(store, CJK_MODEL)
                raw, actual = raw_prompt(prompt), _actual(prompt)
                sample = stored.Sample(CJK_MODEL, raw, known.estimate(raw), actual, num_ctx=4096)
                cut = stored.looks_truncated(sample.estimated, actual, 4096, raw=raw,
                                             samples=known.samples)  # fmt: skip
                stored.record(store, sample, cut, time.time())
            after = stored.load(store, CJK_MODEL)
        finally:
            store.close()
    raw_errors = [_error(before.estimate(raw_prompt(p)), _actual(p)) for p in test]
    cal_errors = [_error(after.estimate(raw_prompt(p)), _actual(p)) for p in test]
    note = f"CJK chat, {len(test)} prompts after {after.samples} calibration turns"
    return [
        row(
            BENCH,
            "CJK corpus: prompt error, heuristic alone",
            statistics.mean(raw_errors),
            "%",
            note,
        ),
        row(BENCH, "CJK corpus: prompt error, calibrated", statistics.mean(cal_errors), "%", note),
        row(BENCH, "CJK corpus: worst prompt error, calibrated", max(cal_errors), "%", note),
        row(
            BENCH,
            "CJK corpus: calibrated factor",
            round(after.factor, 4),
            "x",
            "stand-in / heuristic, as stored in token_calibration",
        ),
    ]


def run() -> list[Row]:
    prompts = _prompts()
    train, test = prompts[:CALIBRATION_TURNS], prompts[CALIBRATION_TURNS:]
    calibration = Calibration()
    for prompt in train:
        calibration = calibration.updated(raw_prompt(prompt), _actual(prompt))
    raw_errors = [_error(raw_prompt(p), _actual(p)) for p in test]
    cal_errors = [_error(calibration.estimate(raw_prompt(p)), _actual(p)) for p in test]
    rolling, running = Calibration(), []
    for p in prompts:  # as in use: estimate with what was learnt so far, then learn
        running.append(_error(rolling.estimate(raw_prompt(p)), _actual(p)))
        rolling = rolling.updated(raw_prompt(p), _actual(p))
    naive = [_error(sum(len(m["content"].split()) * 1.3 for m in p), _actual(p)) for p in test]
    per_message = [
        _error(estimate_text(c) * calibration.factor, max(1, message_tokens({"content": c}) - 4))
        for c in CORPUS
    ]
    paste = "HEAD " + "word, another; " * 70_000 + " TAIL"
    began = time.perf_counter()
    estimate_text(paste)
    one_pass = time.perf_counter() - began
    began = time.perf_counter()
    cut_text(paste, 4000)
    cut = time.perf_counter() - began
    note = f"{len(test)} prompts after {CALIBRATION_TURNS} calibration turns"
    return [
        row(BENCH, "prompt error, heuristic alone", statistics.mean(raw_errors), "%", note),
        row(BENCH, "prompt error, calibrated", statistics.mean(cal_errors), "%", note),
        row(
            BENCH,
            "prompt error, calibrated as it goes",
            statistics.mean(running[1:]),
            "%",
            f"{len(prompts) - 1} prompts, each estimated before its own sample",
        ),
        row(BENCH, "prompt error, words x 1.3", statistics.mean(naive), "%", note),
        row(BENCH, "worst prompt error, calibrated", max(cal_errors), "%", note),
        row(
            BENCH,
            "message error, calibrated",
            statistics.mean(per_message),
            "%",
            f"{len(CORPUS)} single messages, one factor",
        ),
        row(BENCH, "calibrated factor", round(calibration.factor, 4), "x", "stand-in / heuristic"),
        row(
            BENCH,
            "cut 1 MB paste / one estimating pass",
            cut / one_pass,
            "x",
            f"one pass {one_pass * 1000:.0f} ms",
        ),
        *_cjk_rows(),
    ]
