"""CheckCache: answer from the cache when it may, else let the model answer.

(a) Canned answers for the FAQ prompts in the config (`cache.faq`), matched after normalising
case, spacing and punctuation. Hits are shown labelled as cached and stored as such.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, ClassVar

from nodes.base import PocketNode, Shared


def normalise(prompt: str) -> str:
    """Lower case, punctuation dropped, spacing collapsed: "Hello!!  " -> "hello"."""
    text = unicodedata.normalize("NFKC", prompt).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


class CheckCache(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("hit", "miss")

    def prep(self, shared: Shared) -> dict[str, Any]:
        session = shared["session"]
        return {
            "prompt": shared.get("user_message") or "",
            "enabled": self.deps.settings.cache.enabled
            and (session.options or {}).get("cache", True) is not False,
        }

    def exec(self, prep_res: dict[str, Any]) -> dict[str, str] | None:
        if not prep_res["enabled"]:
            return None
        faq = {normalise(k): v for k, v in self.deps.settings.cache.faq.items()}
        answer = faq.get(normalise(prep_res["prompt"]))
        return {"text": answer, "source": "faq"} if answer else None

    def post(self, shared: Shared, prep_res: Any, exec_res: dict[str, str] | None) -> str:
        if exec_res is None:
            return "miss"
        shared["cache_hit"] = exec_res
        self.deps.sink.notice("(cached answer)")
        self.deps.sink.reply(exec_res["text"])
        self.deps.sink.reply_done()
        return "hit"
