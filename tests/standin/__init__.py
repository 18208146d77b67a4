"""An Ollama stand-in server for tests (standard library only).

See ``server.StandIn`` for the scripting surface, ``faults`` for failures,
``replies`` for reply rules and ``tokenizer`` for the token counting it uses.
"""

from __future__ import annotations

from . import replies
from .embeddings import cosine, embed_text
from .faults import Fault
from .models import ModelSpec, default_models
from .records import RequestRecord
from .server import StandIn
from .tokenizer import count_tokens

__all__ = [
    "Fault",
    "ModelSpec",
    "RequestRecord",
    "StandIn",
    "cosine",
    "count_tokens",
    "default_models",
    "embed_text",
    "replies",
]
