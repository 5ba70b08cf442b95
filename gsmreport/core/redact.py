"""Which config keys hold secrets, and the one placeholder that replaces their values.

Reports, model cards and the TUI's config pane are shared, screenshotted and recorded, so
every surface hides the same keys the same way.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "•••• (redacted)"
# Whole words only: `hf_token` and `api_key` are secrets, `max_new_tokens` is not; and a
# word followed by `id`/`ids`/`type`/`length` names a setting about secrets or tokens
# (`pad_token_id`, `key_type`), not one.
_SECRET_WORD = re.compile(
    r"(?:^|[_.\-])(token|key|apikey|secret|password|passwd|credentials?)"
    r"(?:$|[_.\-](?!(?:ids?|type|length|len)(?:$|[_.\-])))"
)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_WORD.search(key.lower()))


def redacted(value: Any, key: str = "") -> Any:
    """A config (nested dicts) with every secret-looking value hidden."""
    if key and is_secret_key(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, dict):
        return {k: redacted(v, str(k)) for k, v in value.items()}
    return value
