"""The token heuristic, the one-pass cut of a huge paste, and the calibration factor."""

from __future__ import annotations

import time

from tests.standin.tokenizer import count_tokens
from utils.context import CUT_MARKER, Calibration, cut_text, estimate_messages, estimate_text


def test_heuristic_counts_like_a_bpe_tokenizer() -> None:
    assert estimate_text("the cat sat") == 3
    assert estimate_text("internationalisation") == 5  # long words: about four chars a token
    assert estimate_text("1234567") == 3  # digits in groups of three
    assert estimate_text("Hi, you!") == 4  # punctuation is a token
    assert estimate_text("你好世界") == 4  # non-Latin text: about a token a character
    assert estimate_messages([{"role": "user", "content": "hi"}]) == 1 + 4 + 3


def test_a_one_megabyte_paste_is_cut_in_one_pass() -> None:
    paste = "HEAD " + "word, another; " * 70_000 + " TAIL"
    assert len(paste) > 1_000_000
    began = time.perf_counter()
    cut = cut_text(paste, 1000)
    elapsed = time.perf_counter() - began
    assert estimate_text(cut) <= 1000
    assert estimate_text(cut) > 800  # most of the room is used
    assert cut.startswith("HEAD") and cut.endswith("TAIL")
    assert CUT_MARKER.split("{")[0] in cut
    assert elapsed < 1.0  # one pass over the megabyte, then only short candidates


def test_short_text_is_not_cut() -> None:
    assert cut_text("short enough", 10) == "short enough"


def test_calibration_converges_on_a_steady_ratio() -> None:
    cal = Calibration()
    for _ in range(6):
        cal = cal.updated(raw=100, actual=130)
    assert abs(cal.factor - 1.3) < 0.01 and cal.samples == 6
    assert cal.margin < Calibration().margin  # measured: less padding
    assert cal.updated(raw=0, actual=10) is cal


def test_calibration_catches_up_fast_when_far_off() -> None:
    cal = Calibration(factor=0.5, samples=20)
    assert cal.updated(raw=100, actual=200).factor >= 1.25  # halfway at once


def test_calibrated_estimate_is_close_to_the_stand_in() -> None:
    text = "The quick brown fox jumps over seven lazy dogs while wise owls count stars."
    cal = Calibration().updated(estimate_text(text), count_tokens(text))
    other = "Seven bright stars above quiet hills and rivers, counted by wise owls."
    assert abs(cal.estimate(estimate_text(other)) - count_tokens(other)) <= 2
