"""Outputs drawn from the report model: terminal, tables (CSV/JSON/Markdown/BibTeX), HTML, graph.

`write_atomic` is how every output reaches a file: a reader (or a web server serving the
reports folder that `tracer refresh` rewrites) never sees a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from tracer.errors import DataError

_BUFFER = 1 << 20  # a streamed report comes in many small pieces: write them a megabyte at a time


def write_atomic(path: Path | str, data: str | bytes | Iterable[str | bytes]) -> Path:
    """Write text (UTF-8), bytes, or text in pieces (str or UTF-8 bytes, written as they come,
    so a large report is never held whole in memory) to `path` through a temporary file in the
    same folder."""
    target = Path(path)
    chunks: Iterable[bytes] = (
        [data.encode("utf-8")]
        if isinstance(data, str)
        else [data]
        if isinstance(data, bytes)
        else (piece.encode("utf-8") if isinstance(piece, str) else piece for piece in data)
    )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise DataError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "wb", buffering=_BUFFER) as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; a report is meant to be read like any other file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    return target
