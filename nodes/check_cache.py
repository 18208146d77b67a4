"""CheckCache: answer from the cache when it may, else let the model answer.

`mode: check` (the default, before the call):
(a) canned answers for the FAQ prompts in the config (`cache.faq`), matched after normalising
    case, spacing and punctuation;
(b) the reply cache, keyed by model, options and the exact prompt messages (`shared["prompt"]`,
    after trimming), used only when the options are deterministic (temperature 0 or a fixed
    seed) and the entry is younger than `cache.ttl_seconds`.
`mode: fallback` (after CallOllama says `unavailable`): the newest reply to the same prompt
messages, whatever the options or its age, labelled "cached — Ollama unavailable".

Off when `cache.enabled` is false or the session sets `cache: false` (`/set cache off`), and
for /retry (the person wants a new reply). Hits are shown labelled and stored with
meta `cached` (`faq`, `reply` or `fallback`) by PersistTurn.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import structlog

from nodes.base import InputError, PocketNode, Shared
from nodes.deps import Deps
from utils.context import reply_cache

log = structlog.get_logger()

LABELS = {"faq": "(cached answer)", "reply": "(cached reply)",
          "fallback": "(cached — Ollama unavailable)"}  # fmt: skip


def normalise(prompt: str) -> str:
    """Lower case, punctuation dropped, spacing collapsed: "Hello!!  " -> "hello"."""
    text = unicodedata.normalize("NFKC", prompt).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class CacheInput:
    enabled: bool
    user_message: str
    options: dict[str, Any]
    keys: reply_cache.CacheKeys | None = None  # None when the cache is off
    found: reply_cache.CachedReply | None = None  # the candidate entry, whatever its age
    fresh_since: float = 0.0  # epoch seconds: an older entry is no normal hit


@dataclass(frozen=True)
class CacheVerdict:
    text: str | None
    source: str  # faq | reply | fallback | miss | off | nondeterministic
    keys: reply_cache.CacheKeys | None = None


class CheckCache(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("hit", "miss")
    inputs: ClassVar[Mapping[str, Any]] = {"user_message": str, "regenerate": bool | None}
    reads: ClassVar[Mapping[str, Any]] = {"session": "Session"}
    may_read: ClassVar[Mapping[str, Any]] = {"prompt": "list[dict[str, Any]]"}
    writes: ClassVar[Mapping[str, Any]] = {"cache": "dict[str, Any]"}
    writes_on: ClassVar[Mapping[str, Mapping[str, Any]]] = {"hit": {"cache_hit": "dict[str, str]"}}

    def __init__(self, deps: Deps, mode: Literal["check", "fallback"] = "check") -> None:
        super().__init__(deps)
        if mode not in ("check", "fallback"):
            raise InputError(f"CheckCache mode must be check or fallback, not {mode!r}")
        self.mode = mode

    def prep(self, shared: Shared) -> CacheInput:
        """Read the session's options and the candidate entry (by key; by prompt in fallback)."""
        session = shared["session"]
        options = session.options or {}
        sent = reply_cache.request_options(options)
        enabled = (
            self.deps.settings.cache.enabled
            and options.get("cache", True) is not False
            and not shared.get("regenerate")
        )
        user_message = shared.get("user_message") or ""
        if not enabled:
            return CacheInput(False, user_message, sent)
        if self.mode == "check" and not reply_cache.deterministic(sent):
            return CacheInput(True, user_message, sent)  # only the FAQ can answer: no lookup
        keys = reply_cache.keys(session.model, sent, shared.get("prompt", []))
        store = self.deps.store
        if self.mode == "fallback":
            found = reply_cache.lookup_any(store, keys.prompt_key)
        else:
            found = reply_cache.lookup(store, keys.key)
        fresh_since = self.deps.clock.now() - self.deps.settings.cache.ttl_seconds
        return CacheInput(True, user_message, sent, keys, found, fresh_since)

    def exec(self, prep_res: CacheInput) -> CacheVerdict:
        """Decide from what prep read: FAQ first, then determinism and age."""
        if not prep_res.enabled:
            return CacheVerdict(None, "off")
        found, keys = prep_res.found, prep_res.keys
        if self.mode == "fallback":
            return CacheVerdict(found.reply if found else None, "fallback", keys)
        faq = {normalise(k): v for k, v in self.deps.settings.cache.faq.items()}
        answer = faq.get(normalise(prep_res.user_message))
        if answer:
            return CacheVerdict(answer, "faq")
        if not reply_cache.deterministic(prep_res.options):
            return CacheVerdict(None, "nondeterministic")
        fresh = found is not None and found.fresh(prep_res.fresh_since)
        return CacheVerdict(found.reply if found and fresh else None, "reply", keys)

    def post(self, shared: Shared, prep_res: CacheInput, exec_res: CacheVerdict) -> str:
        hit = exec_res.text is not None
        shared["cache"] = {"mode": self.mode, "source": exec_res.source, "hit": hit}
        log.info("cache_checked", mode=self.mode, source=exec_res.source, hit=hit)
        if exec_res.text is None:
            return "miss"
        if exec_res.keys is not None:
            key = exec_res.keys.key if exec_res.source == "reply" else None
            reply_cache.note_hit(
                self.deps.store, exec_res.keys.prompt_key, key, self.deps.clock.now()
            )
        shared["cache_hit"] = {"text": exec_res.text, "source": exec_res.source}
        self.deps.sink.notice(LABELS[exec_res.source])
        self.deps.sink.reply(exec_res.text)
        self.deps.sink.reply_done()
        return "hit"
