"""OllamaService against the stand-in: real HTTP on loopback, every fault classified."""

from __future__ import annotations

import time

import pytest

from config.settings import OllamaSettings
from tests.standin import Fault, StandIn, replies
from utils.clock import SystemClock
from utils.ollama import (
    BadRequest,
    ModelNotFound,
    OllamaBusy,
    OllamaServerError,
    OllamaService,
    OllamaUnavailable,
    PullFailed,
    StreamBroken,
)

MODEL = "llama3.2:1b"
HI = [{"role": "user", "content": "hi"}]
FAST = OllamaSettings(connect_timeout=0.5, first_byte_timeout=1.0, chunk_timeout=0.3)


@pytest.fixture
def svc(standin: StandIn) -> OllamaService:
    return OllamaService(standin.url, FAST, SystemClock())


def test_stream_yields_text_and_final_metrics(standin: StandIn, svc: OllamaService) -> None:
    standin.reply = replies.fixed("Hello there, friend.")
    with svc.chat_stream(MODEL, HI) as stream:
        text = "".join(stream)
    assert text == "Hello there, friend."
    assert stream.final is not None and stream.final.done_reason == "stop"
    assert stream.final.eval_count == 3 and stream.final.prompt_eval_count
    assert stream.final.total_duration and stream.final.eval_duration
    assert stream.first_token_at is not None and stream.first_token_at >= stream.started_at


def test_a_finished_stream_gives_its_connection_back(standin: StandIn, svc: OllamaService) -> None:
    standin.reply = replies.fixed("Hello there, friend.")
    for _ in range(3):
        assert "".join(svc.chat_stream(MODEL, HI)) == "Hello there, friend."
    assert standin.connections_accepted == 1  # read to its end, each reused the first


def test_stream_is_lazy_and_close_cancels_generation(standin: StandIn, svc: OllamaService) -> None:
    standin.reply = replies.essay(400)
    standin.tokens_per_second = 200
    stream = svc.chat_stream(MODEL, HI)
    assert len(standin.requests.to("/api/chat")) == 0
    assert next(stream) and next(stream)
    stream.close()
    assert list(stream) == []
    assert standin.requests.wait_finished(2.0)
    (record,) = standin.requests.to("/api/chat")
    assert record.cancelled
    assert record.eval_count < 400


def test_non_streamed_chat(standin: StandIn, svc: OllamaService) -> None:
    standin.reply = replies.fixed("Summary here.")
    result = svc.chat(MODEL, HI)
    assert result.text == "Summary here."
    assert result.final.done_reason == "stop" and result.final.eval_count


@pytest.mark.parametrize(
    ("status", "kind", "transient"),
    [(503, OllamaBusy, True), (500, OllamaServerError, True), (400, BadRequest, False)],
)
def test_status_faults_before_stream(
    standin: StandIn, svc: OllamaService, status: int, kind: type[Exception], transient: bool
) -> None:
    standin.script_fault("chat", Fault.status(status, "nope"))
    with pytest.raises(kind) as info, svc.chat_stream(MODEL, HI) as stream:
        list(stream)
    assert info.value.transient is transient  # type: ignore[attr-defined]


def test_missing_model_is_model_not_found(svc: OllamaService) -> None:
    with pytest.raises(ModelNotFound) as info:
        list(svc.chat_stream("nosuch:7b", HI))
    assert not info.value.transient and info.value.model == "nosuch:7b"
    with pytest.raises(ModelNotFound):
        svc.chat("nosuch:7b", HI)


def test_down_is_unavailable_then_up_works(standin: StandIn, svc: OllamaService) -> None:
    standin.go_down()
    with pytest.raises(OllamaUnavailable) as info:
        list(svc.chat_stream(MODEL, HI))
    assert info.value.transient and not info.value.timeout
    with pytest.raises(OllamaUnavailable):
        svc.chat(MODEL, HI)
    with pytest.raises(OllamaUnavailable):
        svc.list_models()
    standin.come_up()
    assert "".join(svc.chat_stream(MODEL, HI))


def test_down_for_a_moment(standin: StandIn, svc: OllamaService) -> None:
    standin.down_for(0.3)
    with pytest.raises(OllamaUnavailable):
        svc.version()
    time.sleep(0.5)
    assert svc.version() == standin.version


def test_stall_before_first_byte_is_unavailable_timeout(
    standin: StandIn, svc: OllamaService
) -> None:
    standin.script_fault("chat", Fault.stall(2.0))
    began = time.monotonic()
    with pytest.raises(OllamaUnavailable) as info:
        list(svc.chat_stream(MODEL, HI))
    took = time.monotonic() - began
    assert info.value.timeout and info.value.transient
    assert FAST.first_byte_timeout - 0.05 <= took < FAST.first_byte_timeout + 0.5


def test_load_slower_than_chunk_timeout_is_fine(standin: StandIn, svc: OllamaService) -> None:
    standin.load_delay = 0.6  # > chunk_timeout, < first_byte_timeout
    assert "".join(svc.chat_stream(MODEL, HI))


def test_stall_mid_stream_is_stream_broken(standin: StandIn, svc: OllamaService) -> None:
    standin.reply = replies.fixed("one two three four five")
    standin.script_fault("chat", Fault.stall_mid(after=2, seconds=2.0))
    stream = svc.chat_stream(MODEL, HI)
    began = time.monotonic()
    with pytest.raises(StreamBroken) as info:
        list(stream)
    assert time.monotonic() - began < FAST.chunk_timeout + 0.3  # well under first_byte
    assert info.value.partial_chars == len("one two ") and not info.value.transient


@pytest.mark.parametrize(
    "fault",
    [Fault.error_line(after=2, message="runner died"), Fault.cut(after=2), Fault.eof(after=2)],
)
def test_mid_stream_failures_are_stream_broken(
    standin: StandIn, svc: OllamaService, fault: Fault
) -> None:
    standin.reply = replies.fixed("one two three four five")
    standin.script_fault("chat", fault)
    pieces: list[str] = []
    with pytest.raises(StreamBroken) as info, svc.chat_stream(MODEL, HI) as stream:
        for piece in stream:
            pieces.append(piece)
    assert "".join(pieces) == "one two " and info.value.partial_chars == len("one two ")
    assert stream.final is None


def test_error_line_before_any_text_is_retryable(standin: StandIn, svc: OllamaService) -> None:
    standin.script_fault("chat", Fault.error_line(after=0, message="boom"))
    with pytest.raises(OllamaServerError):
        list(svc.chat_stream(MODEL, HI))


def test_load_unload_and_model_queries(standin: StandIn, svc: OllamaService) -> None:
    standin.load_delay = 0.05
    assert svc.load(MODEL) >= 0.05
    (running,) = svc.running()
    assert running.name == MODEL and running.context_length
    svc.unload(MODEL)
    assert svc.running() == []
    names = {m.name for m in svc.list_models()}
    assert {"llama3.2:1b", "qwen2.5:0.5b", "nomic-embed-text:latest"} <= names
    qwen = next(m for m in svc.list_models() if m.name == "qwen2.5:0.5b")
    assert (qwen.family, qwen.parameter_size, qwen.quantization) == ("qwen2", "494.03M", "Q4_K_M")
    details = svc.show("qwen2.5:0.5b")
    assert details.context_length == 32768 and "completion" in details.capabilities
    assert svc.has_model("nomic-embed-text") and svc.has_model("LLAMA3.2:1b")
    assert not svc.has_model("llama3.2")
    with pytest.raises(ModelNotFound):
        svc.show("ghost")


def test_embed_and_embedding_model_cannot_chat(svc: OllamaService) -> None:
    vectors = svc.embed("nomic-embed-text", ["a", "b"])
    assert len(vectors) == 2 and all(isinstance(x, float) for x in vectors[0])
    with pytest.raises(BadRequest):
        svc.chat("nomic-embed-text", HI)


def test_pull_progress_and_failure(standin: StandIn, svc: OllamaService) -> None:
    steps = list(svc.pull("tinyllama"))
    assert steps[0].status == "pulling manifest" and steps[-1].status == "success"
    assert any(p.total and p.completed for p in steps)
    assert svc.has_model("tinyllama:latest")
    standin.registry_unknown.add("ghost")
    with pytest.raises(PullFailed) as info:
        list(svc.pull("ghost"))
    assert "does not exist" in info.value.detail


def test_delete(svc: OllamaService) -> None:
    svc.delete("qwen2.5:0.5b")
    assert not svc.has_model("qwen2.5:0.5b")
    with pytest.raises(ModelNotFound):
        svc.delete("qwen2.5:0.5b")


def test_empty_model_name_is_bad_request(svc: OllamaService) -> None:
    with pytest.raises(BadRequest):
        list(svc.chat_stream("", HI))


def test_close_from_another_thread_while_one_reads_closes_at_its_next_chunk(
    standin: StandIn,
) -> None:
    import threading

    standin.reply = replies.essay(20)
    standin.tokens_per_second = 4.0  # a chunk every 250 ms
    svc = OllamaService(standin.url, OllamaSettings(chunk_timeout=2.0), SystemClock())
    stream = svc.chat_stream(MODEL, HI)
    assert next(stream)
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(list(stream)))
    reader.start()
    time.sleep(0.1)  # the reader is inside next(), waiting for the second chunk
    closed: list[float] = []
    stream.close()  # the main thread (Ctrl+C): must not raise "generator already executing"
    stream.when_closed(lambda: closed.append(time.monotonic()))
    asked = time.monotonic()
    reader.join(2.0)
    assert not reader.is_alive() and stream.closed and closed
    assert closed[0] - asked > 0.05  # the slot was busy until the reader really closed it
    assert got == [[]]  # the reader stopped at once, nothing more forwarded
    deadline = time.monotonic() + 2.0
    while standin.requests.to("/api/chat")[-1].outcome != "cancelled":
        assert time.monotonic() < deadline, "Ollama was never told to stop"
        time.sleep(0.02)


def test_reasoning_chunks_start_the_reply_but_are_not_its_text(
    standin: StandIn, svc: OllamaService
) -> None:
    from tests.standin import ModelSpec

    standin.models["qwen3:0.6b"] = ModelSpec(thinking=True, family="qwen3")
    standin.reply = replies.fixed("Hello there.")
    stream = svc.chat_stream("qwen3:0.6b", HI)
    pieces = list(stream)
    assert "".join(pieces) == "Hello there." and stream.chars == len("Hello there.")
    assert pieces.count("") == stream.thinking_chunks > 5
    assert stream.thinking_chars == len(replies.reasoning(HI))
    with pytest.raises(BadRequest, match="does not support thinking"):
        list(svc.chat_stream(MODEL, HI, think=True))  # Ollama's 400 for a model that cannot
    assert "".join(svc.chat_stream("qwen3:0.6b", HI, think=False)) == "Hello there."
