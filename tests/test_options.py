from __future__ import annotations

import pytest

from utils.ollama import OptionError, parse_option, validate_options


def test_valid_options_are_normalised() -> None:
    got = validate_options(
        {
            "temperature": 1,
            "top_p": 0.9,
            "top_k": 40,
            "num_predict": -1,
            "num_ctx": 8192,
            "stop": "###",
            "repeat_penalty": 1.1,
            "seed": 42,
        }
    )
    assert got["temperature"] == 1.0 and isinstance(got["temperature"], float)
    assert got["stop"] == ["###"] and got["num_predict"] == -1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"temperature": "hot"}, "temperature must be a number between 0 and 2, got 'hot'"),
        ({"temperature": 2.5}, "between 0 and 2"),
        ({"top_p": -0.1}, "top_p must be a number between 0 and 1"),
        ({"top_k": 1.5}, "top_k must be a whole number >= 0"),
        ({"num_predict": 0}, "num_predict must be a whole number > 0, or -1 or -2"),
        ({"num_ctx": 0}, "num_ctx must be a whole number 1..1048576"),
        ({"num_ctx": True}, "num_ctx must be"),
        ({"stop": [1]}, "stop must be a text or a list of texts"),
        ({"repeat_penalty": -1}, "repeat_penalty must be a number 0 or more"),
        ({"temprature": 0.5}, "unknown option 'temprature' (did you mean 'temperature'?)"),
    ],
)
def test_bad_options_one_clear_line(raw: dict[str, object], message: str) -> None:
    with pytest.raises(OptionError) as info:
        validate_options(raw)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_parse_option_from_text() -> None:
    assert parse_option("temperature", "0.7") == 0.7
    assert parse_option("num_ctx", "4096") == 4096
    assert parse_option("seed", "-3") == -3
    assert parse_option("stop", "a,b") == ["a", "b"]
    assert parse_option("temperature", "1") == 1.0
    with pytest.raises(OptionError, match="got 'hot'"):
        parse_option("temperature", "hot")
    with pytest.raises(OptionError, match="num_ctx must be a whole number"):
        parse_option("num_ctx", "4k")
    with pytest.raises(OptionError, match="did you mean 'top_k'"):
        parse_option("topk", "3")


@pytest.mark.parametrize(
    ("text", "value"),
    [("-1", -1), ("0", 0), ("3600", 3600), ("1.5", 1.5), ("5m", "5m"), ("1h30m", "1h30m"),
     ("300ms", "300ms"), ("-1s", "-1s"), ("2.5h", "2.5h")],
)  # fmt: skip
def test_keep_alive_is_seconds_or_a_go_duration(text: str, value: object) -> None:
    parsed = parse_option("keep_alive", text)
    assert parsed == value and type(parsed) is type(value)
    assert validate_options({"keep_alive": text}) == {"keep_alive": value}  # as /set stored it


@pytest.mark.parametrize("bad", ["forever", "5 m", "1d", "", "m5", True, float("inf")])
def test_a_bad_keep_alive_is_one_clear_line(bad: object) -> None:
    with pytest.raises(OptionError, match="keep_alive must be a number of seconds"):
        validate_options({"keep_alive": bad})


def test_think_is_on_off_or_a_level() -> None:
    assert parse_option("think", "true") is True and parse_option("think", "off") is False
    assert parse_option("think", "high") == "high"
    assert validate_options({"think": False}) == {"think": False}
    with pytest.raises(OptionError, match="think must be true, false, low, medium or high"):
        parse_option("think", "maybe")
