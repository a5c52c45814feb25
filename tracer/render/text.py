"""Text from the APIs made safe for a terminal, a log line or a cron mail.

Titles, names and error bodies come from servers we do not control. A title may carry escape
sequences (OSC 0 sets the window title, OSC 52 writes the clipboard, CSI 2J clears the screen)
or line breaks that forge a line of output. `clean_line` removes every C0 and C1 control
character (ESC, BEL, CR and LF included, DEL too) and the bidirectional overrides that reorder
what a reader sees, and turns line breaks and tabs into single spaces: one record, one line.
"""

from __future__ import annotations

import re

# C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F); bidi embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\t\n\u2028\u2029\x85]+")
# Any character that one of the patterns here acts on (ESC, CSI and OSC are controls too).
ACTS_ON = _ANY = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# An escape sequence whole (CSI ... final, OSC ... BEL/ST), so that its parameters do not stay
# behind as text once ESC is gone: "\x1b]0;owned\x07" leaves nothing, not "]0;owned".
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, ended by BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"  # 8-bit OSC
    r"|\x1b[ -/]*[0-~]"  # any other two-byte escape
)


def clean_line(text: str | None) -> str | None:
    """`text` without control characters or escape sequences, on one line (None stays None)."""
    if text is None:
        return None
    if not _ANY.search(text):
        return text  # nearly every title and name: nothing to remove
    text = _SEQUENCE.sub("", text)
    text = _BREAKS.sub(" ", text.replace("\r\n", " ").replace("\r", " "))
    return _CONTROL.sub("", text)


def clean(text: str) -> str:
    """Like clean_line for text that is never None."""
    return clean_line(text) or ""
