"""Ollama: everything that talks to an Ollama server or describes its models.

Owns the HTTP API through an explicit `ollama.Client` (`OllamaService`, `ChatStream`), our
error classes (`OllamaError` and kin, each with `transient` and a credential-free `user_line`),
host parsing and display, the frozen results, option checks, per-family quirks
(`config/models.yaml`) and pulling a missing model. Exports are lazy: importing the package
imports neither `ollama` nor `httpx` until a name is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.ollama.client import OllamaService
    from utils.ollama.errors import (
        BadRequest,
        InvalidRequest,
        ModelNotFound,
        OllamaBusy,
        OllamaError,
        OllamaServerError,
        OllamaUnavailable,
        PullFailed,
        StreamBroken,
        classify,
    )
    from utils.ollama.host import (
        DOCKER_HOST,
        LOCAL,
        display_host,
        in_docker,
        normalise_host,
        pick_reachable,
        resolve_host,
        split_credentials,
    )
    from utils.ollama.loaded import LoadWatch
    from utils.ollama.model_setup import ensure_model, pull_if_missing
    from utils.ollama.options import CHECKS, OptionError, parse_option, validate_options
    from utils.ollama.quirks import Quirks, QuirksError, apply_quirks, load_quirks, quirks_for
    from utils.ollama.results import (
        ChatFinal,
        ChatResult,
        ModelDetails,
        ModelInfo,
        PullProgress,
        RunningModel,
        normalise_model,
        parse_parameters,
    )
    from utils.ollama.stream import ChatStream

__all__ = [
    "CHECKS",
    "DOCKER_HOST",
    "LOCAL",
    "BadRequest",
    "ChatFinal",
    "ChatResult",
    "ChatStream",
    "InvalidRequest",
    "LoadWatch",
    "ModelDetails",
    "ModelInfo",
    "ModelNotFound",
    "OllamaBusy",
    "OllamaError",
    "OllamaServerError",
    "OllamaService",
    "OllamaUnavailable",
    "OptionError",
    "PullFailed",
    "PullProgress",
    "Quirks",
    "QuirksError",
    "RunningModel",
    "StreamBroken",
    "apply_quirks",
    "classify",
    "display_host",
    "ensure_model",
    "in_docker",
    "load_quirks",
    "normalise_host",
    "normalise_model",
    "parse_option",
    "parse_parameters",
    "pick_reachable",
    "pull_if_missing",
    "quirks_for",
    "resolve_host",
    "split_credentials",
    "validate_options",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "OllamaService": "client",
        "BadRequest": "errors",
        "InvalidRequest": "errors",
        "ModelNotFound": "errors",
        "OllamaBusy": "errors",
        "OllamaError": "errors",
        "OllamaServerError": "errors",
        "OllamaUnavailable": "errors",
        "PullFailed": "errors",
        "StreamBroken": "errors",
        "classify": "errors",
        "DOCKER_HOST": "host",
        "LOCAL": "host",
        "display_host": "host",
        "in_docker": "host",
        "normalise_host": "host",
        "pick_reachable": "host",
        "resolve_host": "host",
        "split_credentials": "host",
        "LoadWatch": "loaded",
        "ensure_model": "model_setup",
        "pull_if_missing": "model_setup",
        "CHECKS": "options",
        "OptionError": "options",
        "parse_option": "options",
        "validate_options": "options",
        "Quirks": "quirks",
        "QuirksError": "quirks",
        "apply_quirks": "quirks",
        "load_quirks": "quirks",
        "quirks_for": "quirks",
        "ChatFinal": "results",
        "ChatResult": "results",
        "ModelDetails": "results",
        "ModelInfo": "results",
        "PullProgress": "results",
        "RunningModel": "results",
        "normalise_model": "results",
        "parse_parameters": "results",
        "ChatStream": "stream",
    },
)
