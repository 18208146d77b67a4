"""The context window: token estimates, per-model calibration and the truncation watch, the
rolling summary, and the reply cache. `calibration`, `summaries` and `reply_cache` are used as
namespaces (`calibration.record(store, ...)`); token arithmetic is exported by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.context import calibration, reply_cache, summaries, tokens
    from utils.context.calibration import Sample, estimate_error_by_model, looks_truncated
    from utils.context.reply_cache import CachedReply, CacheKeys
    from utils.context.summaries import Summary, Turn
    from utils.context.tokens import (
        CUT_MARKER,
        MESSAGE_OVERHEAD,
        PROMPT_OVERHEAD,
        Calibration,
        cut_text,
        estimate_message,
        estimate_messages,
        estimate_text,
        raw_prompt,
        scaled,
    )

__all__ = [
    "CUT_MARKER",
    "MESSAGE_OVERHEAD",
    "PROMPT_OVERHEAD",
    "CacheKeys",
    "CachedReply",
    "Calibration",
    "Sample",
    "Summary",
    "Turn",
    "calibration",
    "cut_text",
    "estimate_error_by_model",
    "estimate_message",
    "estimate_messages",
    "estimate_text",
    "looks_truncated",
    "raw_prompt",
    "reply_cache",
    "scaled",
    "summaries",
    "tokens",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "Sample": "calibration",
        "estimate_error_by_model": "calibration",
        "looks_truncated": "calibration",
        "CacheKeys": "reply_cache",
        "CachedReply": "reply_cache",
        "Summary": "summaries",
        "Turn": "summaries",
        "CUT_MARKER": "tokens",
        "MESSAGE_OVERHEAD": "tokens",
        "PROMPT_OVERHEAD": "tokens",
        "Calibration": "tokens",
        "cut_text": "tokens",
        "estimate_message": "tokens",
        "estimate_messages": "tokens",
        "estimate_text": "tokens",
        "raw_prompt": "tokens",
        "scaled": "tokens",
    },
)
