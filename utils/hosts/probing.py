"""Is a cooled-down host back? `GET /api/version` with a short timeout; any answer below 500
says yes. Returns None when it answered, else what went wrong (for the log and `doctor`)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from utils.ollama import split_credentials


def probe(
    url: str,
    *,
    timeout: float = 2.0,
    headers: Mapping[str, str] | None = None,
    verify: bool = True,
) -> str | None:
    bare, creds = split_credentials(url)
    try:
        with httpx.Client(timeout=timeout, headers=dict(headers or {}), verify=verify) as client:
            response = client.get(f"{bare}/api/version", auth=creds if creds else None)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    return None
