"""Text from the APIs made safe for one line of a terminal, a cron mail or a log."""

from __future__ import annotations

import re
import unicodedata

# Characters that move the cursor, end a line, reorder text or start an escape sequence:
# C0 and C1 controls (ESC, CR, LF and NEL among them), DEL, the Unicode line and paragraph
# separators, and the bidirectional embeddings, overrides and isolates.
_BIDI = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACES = re.compile(r"\s+")


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in {"Cc", "Zl", "Zp"} or ch in _BIDI


def one_line(text: object, limit: int | None = None) -> str:
    """`text` as one line: every control character becomes a space, runs of space become one,
    and a text longer than `limit` characters is cut with an ellipsis."""
    raw = "" if text is None else str(text)
    cleaned = "".join(" " if _unsafe(ch) else ch for ch in raw)
    line = _SPACES.sub(" ", cleaned).strip()
    if limit is not None and len(line) > limit:
        line = line[: max(limit - 1, 0)].rstrip() + "…"
    return line
