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


class FileSpan:
    """`size` bytes at `start` of an open file (a spool of a streamed report's parts), as a
    piece of what write_atomic writes: copied from file to file by the kernel
    (copy_file_range), never read into Python objects."""

    __slots__ = ("fd", "size", "start")

    def __init__(self, fd: int, start: int, size: int) -> None:
        self.fd, self.start, self.size = fd, start, size


def _copy_span(span: FileSpan, out: int) -> None:
    """Append the span's bytes at `out`'s position (by read and write where the kernel has
    no copy_file_range for these files)."""
    start, left = span.start, span.size
    copy = getattr(os, "copy_file_range", None)
    while left > 0:
        done = 0
        if copy is not None:
            try:
                done = copy(span.fd, out, left, start)
            except OSError:
                copy = None  # another file system, or no such call: copy by hand
                continue
        else:
            data = memoryview(os.pread(span.fd, min(left, _BUFFER), start))
            while data:
                written = os.write(out, data)
                data = data[written:]
                done += written
        if not done:
            raise OSError(f"{span.size - left} of a spool's {span.size} bytes, then nothing")
        start += done
        left -= done


def write_atomic(
    path: Path | str, data: str | bytes | Iterable[str | bytes | FileSpan]
) -> Path:
    """Write text (UTF-8), bytes, or text in pieces (str, UTF-8 bytes, or a FileSpan of UTF-8
    bytes, written as they come, so a large report is never held whole in memory) to `path`
    through a temporary file in the same folder."""
    target = Path(path)
    chunks: Iterable[bytes | FileSpan] = (
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
                if isinstance(chunk, FileSpan):
                    handle.flush()  # the span goes after what is buffered, at the file's end
                    _copy_span(chunk, handle.fileno())
                else:
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
