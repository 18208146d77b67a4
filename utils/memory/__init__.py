"""Long-term memory (issue 20): facts about a person, kept across conversations.

`memories_sql` and `jobs_sql` are the tables (migration m013) through the `SqlStore` seam;
`index` the numpy matrix recall ranks with (cached per owner and version); `text` the
extraction prompt, its JSON schema and parsing; `remember` dedup and keeping facts;
`Extractor` runs extraction jobs as low-priority work through the queue; `Background` runs
them in a thread (chat, serve). `memories_sql`, `jobs_sql` and `index` are also namespaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.memory import index, jobs_sql, memories_sql, remember
    from utils.memory.background import Background
    from utils.memory.extractor import Extractor, Outcome
    from utils.memory.memories_sql import Memory
    from utils.memory.text import (
        FACTS_SCHEMA,
        LOCAL_OWNER,
        BrokenFacts,
        extraction_messages,
        normalise,
        owner_for_key,
        parse_facts,
    )

__all__ = [
    "FACTS_SCHEMA",
    "LOCAL_OWNER",
    "Background",
    "BrokenFacts",
    "Extractor",
    "Memory",
    "Outcome",
    "extraction_messages",
    "index",
    "jobs_sql",
    "memories_sql",
    "normalise",
    "owner_for_key",
    "parse_facts",
    "remember",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "Background": "background",
        "Extractor": "extractor",
        "Outcome": "extractor",
        "Memory": "memories_sql",
        "FACTS_SCHEMA": "text",
        "LOCAL_OWNER": "text",
        "BrokenFacts": "text",
        "extraction_messages": "text",
        "normalise": "text",
        "owner_for_key": "text",
        "parse_facts": "text",
    },
)
