"""CacheReply: keep a complete reply in the reply cache, after the turn is stored.

Only a reply the model finished (`complete`, `done_reason` stop) is kept, under the model,
the options sent and the exact prompt messages; cached answers are never cached again. It is
kept whatever the options, so that the fallback can show it when Ollama is down; CheckCache
serves it as a normal hit only when the options are deterministic. Off with the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from nodes.base import PocketNode, Shared
from utils.context import reply_cache

if TYPE_CHECKING:
    from nodes.stream_reply import ReplyOutcome


@dataclass(frozen=True)
class CacheReplyInput:
    enabled: bool
    model: str
    options: dict[str, Any]
    prompt: list[dict[str, str]]
    reply: ReplyOutcome | None


class CacheReply(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    reads: ClassVar[Mapping[str, Any]] = {"session": "Session"}
    may_read: ClassVar[Mapping[str, Any]] = {
        "prompt": "list[dict[str, Any]]",
        "reply": "ReplyOutcome",
        "read_only": "str | None",
    }

    def prep(self, shared: Shared) -> CacheReplyInput:
        session = shared["session"]
        options = session.options or {}
        return CacheReplyInput(
            enabled=self.deps.settings.cache.enabled
            and options.get("cache", True) is not False
            and not shared.get("read_only"),
            model=session.model,
            options=reply_cache.request_options(options),
            prompt=shared.get("prompt", []),
            reply=shared.get("reply"),
        )

    def exec(self, prep_res: CacheReplyInput) -> reply_cache.CacheKeys | None:
        reply = prep_res.reply
        if not prep_res.enabled or reply is None or reply.status != "complete" or not reply.text:
            return None
        if reply.final is not None and reply.final.done_reason not in (None, "stop"):
            return None
        return reply_cache.keys(prep_res.model, prep_res.options, prep_res.prompt)

    def post(
        self, shared: Shared, prep_res: CacheReplyInput, exec_res: reply_cache.CacheKeys | None
    ) -> str:
        if exec_res is not None and prep_res.reply is not None:
            settings = self.deps.settings.cache
            reply_cache.put(self.deps.store, exec_res, prep_res.model, prep_res.reply.text,
                            self.deps.clock.now(), settings.max_entries)  # fmt: skip
        return "default"
