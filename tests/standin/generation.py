"""/api/chat, /api/generate and /api/embed: slot, load, truncation, pacing, metrics."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .embeddings import embed_text
from .faults import Fault
from .models import ModelSpec, full_name, rfc3339
from .options import BadRequest, check_options, keep_alive_seconds
from .replies import split_chunks
from .tokenizer import count_tokens, fit_messages, tokenize
from .wire import ClientGone, Exchange, NDJSONStream, StreamEnded, omit_empty

if TYPE_CHECKING:
    from .server import StandIn

BUSY = "server busy, please try again.  maximum pending requests exceeded"


@dataclass
class Job:
    """A validated generation request."""

    kind: str  # "chat" | "generate" | "embed"
    model: str  # as the client sent it
    name: str  # full name:tag
    spec: ModelSpec
    options: dict[str, Any]
    keep_alive: float
    stream: bool
    num_ctx: int
    fault: Fault | None
    thinks: bool = False  # streams reasoning (message.thinking) before the reply


def resolve_model(
    s: StandIn, x: Exchange, body: dict[str, Any], capability: str | None
) -> tuple[str, str, ModelSpec] | None:
    """Find the model or answer 400/404; returns ``(as_sent, full_name, spec)``."""
    model = body.get("model") or body.get("name")
    if not isinstance(model, str) or not model:
        x.send_error(400, "model is required")
        return None
    name = full_name(model)
    x.record.model = name
    spec = s.models.get(name)
    if spec is None:
        x.send_error(404, f"model '{model}' not found")
        return None
    if capability and spec.embedding:
        x.send_error(400, f'"{model}" does not support {capability}')
        return None
    return model, name, spec


def _job(s: StandIn, x: Exchange, body: dict[str, Any], kind: str) -> Job | None:
    found = resolve_model(s, x, body, None if kind == "embed" else kind)
    if found is None:
        return None
    model, name, spec = found
    try:
        options = check_options(body.get("options"))
        keep_alive = keep_alive_seconds(body.get("keep_alive"), s.default_keep_alive)
    except BadRequest as exc:
        x.send_error(400, str(exc))
        return None
    fmt = body.get("format")
    if kind != "embed" and fmt not in (None, "", "json") and not isinstance(fmt, dict):
        x.send_error(400, f'invalid format: {json.dumps(fmt)}; expected "json" or a valid JSON '
                          "Schema")  # fmt: skip  (as Ollama; the reply itself is the rule's)
        return None
    think = body.get("think")
    if kind != "embed" and think not in (None, False) and not spec.thinking:
        x.send_error(400, f'"{model}" does not support thinking')
        return None
    requested = int(options.get("num_ctx") or 0)
    num_ctx = min(requested if requested > 0 else s.default_num_ctx, spec.context_length)
    x.record.num_ctx = num_ctx
    stream = body.get("stream") is not False and kind != "embed"
    thinks = kind == "chat" and spec.thinking and think is not False
    fault = s.faults.take(kind)
    return Job(kind, model, name, spec, options, keep_alive, stream, num_ctx, fault, thinks)


def _load(s: StandIn, x: Exchange, job: Job) -> int:
    """Pay the load delay if the model is not loaded (or num_ctx changed); return ns."""
    if not s.loaded.begin(job.name, job.num_ctx):
        return 0
    start = time.perf_counter_ns()
    x.sleep(s.load_delay if job.spec.load_delay is None else job.spec.load_delay)
    ns = max(1, time.perf_counter_ns() - start)
    x.record.load_duration = ns
    return ns


def run(s: StandIn, x: Exchange, body: dict[str, Any], kind: str) -> None:
    """Validate, wait for a slot, then produce the chat/generate/embed response."""
    if kind == "chat":
        messages = body.get("messages") or []
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            x.send_error(400, "json: cannot unmarshal messages")
            return
    elif kind == "generate":
        messages = []
        if body.get("system"):
            messages.append({"role": "system", "content": str(body["system"])})
        if body.get("prompt"):
            messages.append({"role": "user", "content": str(body["prompt"])})
        if not body.get("prompt"):
            messages = []
    job = _job(s, x, body, kind)
    if job is None:
        return
    if job.fault and job.fault.kind == "status":
        x.send_error(job.fault.status_code, job.fault.message)
        return
    if not s.slots.acquire(x.stop):
        x.send_error(503, BUSY)
        return
    started = time.perf_counter_ns()
    try:
        if job.fault and job.fault.kind == "stall":
            x.sleep(job.fault.seconds)
        if kind == "embed":
            _embed(s, x, job, body, started)
        elif not messages:
            _load_only(s, x, job)
        else:
            _generate(s, x, job, messages, started)
    finally:
        s.loaded.finish(job.name, job.keep_alive)
        s.slots.release()


def _load_only(s: StandIn, x: Exchange, job: Job) -> None:
    reason = "unload"
    if job.keep_alive != 0:
        _load(s, x, job)
        reason = "load"
    out: dict[str, Any] = {"model": job.model, "created_at": rfc3339()}
    if job.kind == "chat":
        out["message"] = {"role": "assistant", "content": ""}
    else:
        out["response"] = ""
    out.update(done=True, done_reason=reason)
    x.send_json(200, out)
    x.record.finish("ok")


def _reply_chunks(
    s: StandIn, job: Job, messages: list[dict[str, Any]]
) -> tuple[list[tuple[str, str]], str]:
    """(field, text) chunks: ``thinking`` ones first for a thinking model, then ``content``.
    ``num_predict`` counts both, as Ollama's does."""
    text = s.reply(messages)
    for stop in job.options.get("stop") or []:
        if stop and stop in text:
            text = text[: text.index(stop)]
    chunks = [("content", c) for c in split_chunks(text)]
    if job.thinks:
        chunks = [("thinking", c) for c in split_chunks(s.reasoning(messages))] + chunks
    limit = int(job.options.get("num_predict") or -1)
    if limit > 0 and len(chunks) > limit:
        return chunks[:limit], "length"
    return chunks, "stop"


def _piece(job: Job, content: str, done: bool, thinking: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"model": job.model, "created_at": rfc3339()}
    if job.kind == "chat":
        out["message"] = omit_empty({"role": "assistant", "thinking": thinking})
        out["message"]["content"] = content  # always present
    else:
        out["response"] = content
    out["done"] = done
    return out


def _generate(
    s: StandIn, x: Exchange, job: Job, messages: list[dict[str, Any]], started: int
) -> None:
    load_ns = _load(s, x, job)
    fit = fit_messages(messages, job.num_ctx)
    rec = x.record
    rec.truncated, rec.kept_messages = fit.truncated, fit.kept
    rec.prompt_tokens, rec.prompt_eval_count = fit.prompt_tokens, fit.prompt_eval_count
    prompt_start = time.perf_counter_ns()
    x.sleep(s.first_token_delay)
    prompt_ns = max(1, time.perf_counter_ns() - prompt_start)
    chunks, reason = _reply_chunks(s, job, [messages[i] for i in fit.kept])
    stream = NDJSONStream(x, job.fault) if job.stream else None
    gap = 1.0 / s.tokens_per_second if s.tokens_per_second else 0.0
    eval_start = time.perf_counter_ns()
    try:
        for i, (field, chunk) in enumerate(chunks):
            if i and gap:  # token i is due i gaps after the first: fast rates keep their pace
                x.sleep(eval_start / 1e9 + i * gap - time.perf_counter())
            if stream and field == "thinking":
                stream.send(_piece(job, "", False, thinking=chunk))
            elif stream:
                stream.send(_piece(job, chunk, False))
            rec.eval_count = i + 1
        if stream:
            final = _piece(job, "", True)
        else:
            final = _piece(job, "".join(c for f, c in chunks if f == "content"), True,
                           thinking="".join(c for f, c in chunks if f == "thinking"))  # fmt: skip
        final.update(
            omit_empty(
                {
                    "done_reason": reason,
                    "total_duration": time.perf_counter_ns() - started,
                    "load_duration": load_ns,
                    "prompt_eval_count": fit.prompt_eval_count,
                    "prompt_eval_duration": prompt_ns,
                    "eval_count": len(chunks),
                    "eval_duration": max(1, time.perf_counter_ns() - eval_start),
                }
            )
        )
        if stream:
            stream.send(final, final=True)
            stream.end()
        elif _nonstream_fault(x, job.fault):
            return
        else:
            x.send_json(200, final)
        rec.finish("ok")
    except StreamEnded as ended:
        rec.finish(ended.outcome)
    except ClientGone:
        rec.finish("cancelled")


def _nonstream_fault(x: Exchange, fault: Fault | None) -> bool:
    """Apply a mid-stream fault to a non-streamed reply; True if it replaced the reply."""
    if fault is None:
        return False
    if fault.kind == "stall_mid":
        x.sleep(fault.seconds)
    elif fault.kind == "error_line":
        x.send_error(500, fault.message)
        return True
    elif fault.kind == "cut":
        x.cut()
        x.record.finish("cut")
        return True
    return False


def _embed(s: StandIn, x: Exchange, job: Job, body: dict[str, Any], started: int) -> None:
    raw = body.get("input", [])
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        x.send_error(400, "invalid input type")
        return
    load_ns = _load(s, x, job) if inputs else 0
    vectors, tokens = [], 0
    for text in inputs:
        pieces = tokenize(text)
        if len(pieces) > job.num_ctx:
            if body.get("truncate") is False:
                x.send_error(400, "input exceeds maximum context length")
                return
            text = " ".join(pieces[: job.num_ctx])
        tokens += min(count_tokens(text), job.num_ctx)
        vectors.append(embed_text(text, s.embedding_dimensions))
    x.record.prompt_eval_count = tokens
    out: dict[str, Any] = {"model": job.model, "embeddings": vectors}
    out.update(
        omit_empty(
            {
                "total_duration": time.perf_counter_ns() - started,
                "load_duration": load_ns,
                "prompt_eval_count": tokens,
            }
        )
    )
    if _nonstream_fault(x, job.fault):
        return
    x.send_json(200, out)
    x.record.finish("ok")
