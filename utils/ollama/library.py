"""The `ollama` package, imported so that a bad `OLLAMA_HOST` cannot break the import.

On import the package builds a default client from `OLLAMA_HOST` and raises on a malformed one
(`::::`). pocketchat never uses that client: every client is explicit, and the host is checked
by `normalise_host`, which says what is wrong in one line. So the variable is hidden while the
package is imported and put back at once.
"""

from __future__ import annotations

import os

_saved = os.environ.pop("OLLAMA_HOST", None)
try:
    import ollama
finally:
    if _saved is not None:
        os.environ["OLLAMA_HOST"] = _saved

__all__ = ["ollama"]
