"""Model-management endpoints: /api/tags, /api/show, /api/ps, /api/pull, /api/delete."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from .generation import resolve_model
from .models import ModelSpec, full_name
from .wire import ClientGone, Exchange, NDJSONStream, StreamEnded

if TYPE_CHECKING:
    from .server import StandIn

MANIFEST_MISSING = "pull model manifest: file does not exist"


def tags(s: StandIn, x: Exchange, body: dict[str, Any]) -> None:
    """GET /api/tags."""
    x.send_json(200, {"models": [spec.tag_entry(n) for n, spec in sorted(s.models.items())]})


def show(s: StandIn, x: Exchange, body: dict[str, Any]) -> None:
    """POST /api/show."""
    found = resolve_model(s, x, body, None)
    if found is not None:
        x.send_json(200, found[2].show())


def ps(s: StandIn, x: Exchange, body: dict[str, Any]) -> None:
    """GET /api/ps: loaded models with ``expires_at`` and live ``context_length``."""
    entries = []
    for name, (num_ctx, expires_at) in sorted(s.loaded.current().items()):
        spec = s.models.get(name)
        if spec is not None:
            entries.append(spec.ps_entry(name, expires_at, num_ctx))
    x.send_json(200, {"models": entries})


def delete(s: StandIn, x: Exchange, body: dict[str, Any]) -> None:
    """DELETE /api/delete: 200 with an empty body, or 404."""
    found = resolve_model(s, x, body, None)
    if found is None:
        return
    s.models.pop(found[1], None)
    s.loaded.unload(found[1])
    x.send_bytes(200, b"", "text/plain; charset=utf-8")


def _layers(name: str, spec: ModelSpec) -> list[tuple[str, int]]:
    sizes = [spec.size, 11_356, 1_429, 96]
    return [(hashlib.sha256(f"{name}/{i}".encode()).hexdigest(), n) for i, n in enumerate(sizes)]


def pull(s: StandIn, x: Exchange, body: dict[str, Any]) -> None:
    """POST /api/pull: NDJSON progress, or ``{"status":"success"}`` with stream false."""
    model = body.get("model") or body.get("name")
    if not isinstance(model, str) or not model:
        x.send_error(400, "model is required")
        return
    name = full_name(model)
    x.record.model = name
    unknown = name in {full_name(n) for n in s.registry_unknown}
    fault = s.faults.take("pull")
    if fault and fault.kind == "status":
        x.send_error(fault.status_code, fault.message)
        return
    if body.get("stream") is False:
        if unknown:
            x.send_error(500, MANIFEST_MISSING)
            return
        s.models[name] = s.registry.get(name) or s.models.get(name) or ModelSpec()
        x.send_json(200, {"status": "success"})
        x.record.finish("ok")
        return
    stream = NDJSONStream(x, fault)
    try:
        if fault and fault.kind == "stall":
            x.sleep(fault.seconds)
        stream.send({"status": "pulling manifest"})
        if unknown:
            stream.send({"error": MANIFEST_MISSING})
            stream.end()
            x.record.finish("error")
            return
        spec = s.registry.get(name) or s.models.get(name) or ModelSpec()
        for digest, total in _layers(name, spec):
            for completed in (0, total // 2, total):
                x.sleep(s.pull_step_delay)
                line: dict[str, Any] = {
                    "status": f"pulling {digest[:12]}",
                    "digest": f"sha256:{digest}",
                    "total": total,
                }
                if completed:
                    line["completed"] = completed
                stream.send(line)
        stream.send({"status": "verifying sha256 digest"})
        stream.send({"status": "writing manifest"})
        s.models[name] = spec
        stream.send({"status": "success"}, final=True)
        stream.end()
        x.record.finish("ok")
    except StreamEnded as ended:
        x.record.finish(ended.outcome)
    except ClientGone:
        x.record.finish("cancelled")
