"""Plain frozen records the Ollama service returns (no pydantic past `utils/ollama_*`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

NS = 1_000_000_000


@dataclass(frozen=True)
class ChatFinal:
    """The metrics of the final (`done`) chunk; durations in nanoseconds."""

    done_reason: str | None = None
    prompt_eval_count: int | None = None
    eval_count: int | None = None
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_duration: int | None = None
    eval_duration: int | None = None

    @classmethod
    def from_chunk(cls, chunk: Any) -> ChatFinal:
        return cls(
            done_reason=chunk.done_reason,
            prompt_eval_count=chunk.prompt_eval_count,
            eval_count=chunk.eval_count,
            total_duration=chunk.total_duration,
            load_duration=chunk.load_duration,
            prompt_eval_duration=chunk.prompt_eval_duration,
            eval_duration=chunk.eval_duration,
        )

    @property
    def load_seconds(self) -> float:
        return (self.load_duration or 0) / NS

    def durations(self) -> dict[str, float]:
        """The durations Ollama reported, in seconds (only those it sent)."""
        fields = {
            "server_total_seconds": self.total_duration,
            "load_seconds": self.load_duration,
            "prompt_eval_seconds": self.prompt_eval_duration,
            "eval_seconds": self.eval_duration,
        }
        return {name: value / NS for name, value in fields.items() if value}


@dataclass(frozen=True)
class ChatResult:
    text: str
    final: ChatFinal


@dataclass(frozen=True)
class ModelInfo:
    name: str
    size: int | None = None
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    modified_at: datetime | None = None


@dataclass(frozen=True)
class ModelDetails:
    name: str
    family: str | None = None
    context_length: int | None = None
    capabilities: tuple[str, ...] = ()
    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    parameter_size: str | None = None
    quantization: str | None = None

    @property
    def embedding_only(self) -> bool:
        """It only embeds (`capabilities` without `completion`), so it cannot chat. An Ollama
        too old to list capabilities says nothing: then the model counts as able to chat."""
        return bool(self.capabilities) and "completion" not in self.capabilities


@dataclass(frozen=True)
class RunningModel:
    name: str
    size: int | None = None
    size_vram: int | None = None
    context_length: int | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PullProgress:
    status: str
    digest: str | None = None
    completed: int | None = None
    total: int | None = None


def normalise_model(name: str) -> str:
    """`llama3.2` -> `llama3.2:latest`; names with a tag are kept (case-folded)."""
    name = name.strip().lower()
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def parse_parameters(text: str | None) -> dict[str, tuple[str, ...]]:
    """`/api/show`'s `parameters` text (`stop "<|eot|>"` lines) -> {name: values}."""
    out: dict[str, list[str]] = {}
    for line in (text or "").splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            out.setdefault(key, []).append(value.strip().strip('"'))
    return {k: tuple(v) for k, v in out.items()}
