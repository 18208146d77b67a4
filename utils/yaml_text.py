"""Safe YAML, parsed by libyaml when PyYAML was built with it (several times faster to start).

Only the parser differs: the safe constructor and resolver are the same Python code, so the
data is the same. A document libyaml refuses is parsed again by the pure-Python loader, whose
error (and its wording) is the one raised: a mistake reads the same with or without libyaml.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = yaml.SafeLoader
FastLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """`yaml.safe_load(text)`, fast when it can be; raises `yaml.YAMLError`."""
    try:
        return yaml.load(text, Loader=FastLoader)
    except yaml.YAMLError:
        return yaml.safe_load(text)
