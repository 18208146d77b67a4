"""OpenAI's chat-completions shapes: the request read into a `ChatRequest`, and the replies
(a `chat.completion`, `chat.completion.chunk`s, `usage`, errors) as OpenAI's clients expect.

Only text is taken: a message's content is a string or a list of `{"type": "text"}` parts.
OpenAI's sampling fields become Ollama options (`max_tokens` -> `num_predict`, `stop`, `seed`,
`temperature`, `top_p`, `presence_penalty`, `frequency_penalty`); anything else is ignored, as
OpenAI-compatible servers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = {"system", "developer", "user", "assistant"}
OPTION_FIELDS = {"temperature": "temperature", "top_p": "top_p", "seed": "seed",
                 "presence_penalty": "presence_penalty", "frequency_penalty": "frequency_penalty",
                 "max_tokens": "num_predict", "max_completion_tokens": "num_predict"}  # fmt: skip
COMPLETE = {"complete", "done", "ok"}  # a done event's status for a whole reply


class BadChatRequest(ValueError):
    """The request cannot be answered as sent; the message says why (-> 400)."""


@dataclass(frozen=True)
class ChatRequest:
    model: str | None
    content: str  # the new (last, user) message
    system: str | None = None
    history: list[tuple[str, str]] = field(default_factory=list)  # earlier (role, text)
    stream: bool = False
    include_usage: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    user: str | None = None  # OpenAI's `user`: whose long-term memory, under the key


def parse(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise BadChatRequest("the body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadChatRequest("'messages' must be a non-empty list")
    if body.get("n", 1) != 1:
        raise BadChatRequest("only n=1 is supported")
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise BadChatRequest(
                f"messages[{i}]: 'role' must be one of system, developer, user, assistant"
            )
        text = _text(message.get("content"), i)
        if message["role"] in ("system", "developer"):
            system.append(text)
        else:
            turns.append((message["role"], text))
    if not turns or turns[-1][0] != "user":
        raise BadChatRequest("the last message must be the user's")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadChatRequest("'model' must be a string")
    stream_options = body.get("stream_options") or {}
    user = body.get("user")
    return ChatRequest(
        user=user if isinstance(user, str) and user else None,
        model=model or None, content=turns[-1][1], system="\n\n".join(system) or None,
        history=turns[:-1], stream=bool(body.get("stream")),
        include_usage=bool(isinstance(stream_options, dict)
                           and stream_options.get("include_usage")),
        options=_options(body),
    )  # fmt: skip


def _text(content: Any, i: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in content
    ):
        return "".join(p["text"] for p in content)
    raise BadChatRequest(f"messages[{i}]: 'content' must be text (a string or text parts)")


def _options(body: dict[str, Any]) -> dict[str, Any]:
    options = {ours: body[theirs] for theirs, ours in OPTION_FIELDS.items()
               if body.get(theirs) is not None}  # fmt: skip
    stop = body.get("stop")
    if isinstance(stop, str):
        options["stop"] = [stop]
    elif isinstance(stop, list) and stop:
        options["stop"] = [str(s) for s in stop]
    return options


def usage(data: dict[str, Any]) -> dict[str, int]:
    prompt, completion = int(data.get("prompt_tokens") or 0), int(
        data.get("completion_tokens") or 0
    )
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}  # fmt: skip


def finish_reason(done: dict[str, Any]) -> str:
    """Ollama's `done_reason` when the run has it; else a whole reply `stop`, a cut one
    (interrupted, partial) `length`."""
    if done.get("done_reason") in ("stop", "length"):
        return str(done["done_reason"])
    return "stop" if done.get("status") in COMPLETE else "length"


def completion(
    cid: str, created: int, model: str, text: str, done: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": cid, "object": "chat.completion", "created": created, "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": None, "finish_reason": finish_reason(done)}],
        "usage": usage(done),
    }  # fmt: skip


def chunk(
    cid: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None,
    usage_: dict[str, int] | None = None, *, choices: bool = True,
) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {
        "id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        if choices else [],
    }  # fmt: skip
    if usage_ is not None:
        body["usage"] = usage_
    return body


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
