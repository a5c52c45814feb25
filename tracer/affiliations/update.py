"""Fetch the newest ROR dump from ROR's Zenodo community and build its index.

`settings.ror_dump_url` answers with Zenodo's record listing (JSON: hits.hits[].files[] with
key and links.self); the newest *.zip there is streamed to a temporary file, renamed into the
data dir, and indexed. The URL may also point straight at a zip.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tracer.affiliations.gazetteer import Gazetteer
from tracer.config import Settings
from tracer.errors import DataError, SourceError

_CHUNK = 1 << 20


def find_dump_url(session: requests.Session, settings: Settings) -> tuple[str, str]:
    """(download URL, file name) of the newest dump named by settings.ror_dump_url."""
    url = settings.ror_dump_url
    if url.split("?", 1)[0].endswith(".zip"):
        return url, url.split("?", 1)[0].rsplit("/", 1)[-1]
    data = _get_json(session, url, settings)
    hits = data.get("hits", {}).get("hits", []) if isinstance(data, dict) else []
    for hit in hits:
        for item in hit.get("files") or []:
            key = str(item.get("key") or "")
            link = (item.get("links") or {}).get("self") or (item.get("links") or {}).get("content")
            if key.endswith(".zip") and link:
                return str(link), Path(key).name
    raise SourceError(f"No ROR dump zip found at {url}.", source="ror")


def _get_json(session: requests.Session, url: str, settings: Settings) -> Any:
    try:
        response = session.get(url, timeout=settings.http_timeout)
    except requests.RequestException as exc:
        raise SourceError(f"Cannot reach {url}: {exc.__class__.__name__}.", source="ror") from None
    if response.status_code != 200:
        raise SourceError(
            f"{url} answered HTTP {response.status_code}.",
            source="ror",
            status=response.status_code,
        )
    try:
        return response.json()
    except ValueError:
        raise SourceError(f"{url} did not answer with JSON.", source="ror") from None


def download(
    session: requests.Session,
    url: str,
    target: Path,
    settings: Settings,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Stream `url` to a temporary file beside `target`, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            try:
                with session.get(url, stream=True, timeout=settings.http_timeout) as response:
                    if response.status_code != 200:
                        raise SourceError(
                            f"{url} answered HTTP {response.status_code}.",
                            source="ror",
                            status=response.status_code,
                        )
                    total = int(response.headers.get("content-length") or 0) or None
                    done = 0
                    for block in response.iter_content(_CHUNK):
                        handle.write(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
                    if total is not None and done != total:
                        raise SourceError(f"Download of {url} was cut short.", source="ror")
            except requests.RequestException as exc:
                raise SourceError(
                    f"Download of {url} failed: {exc.__class__.__name__}.", source="ror"
                ) from None
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def update(
    settings: Settings, progress: Callable[[int, int | None], None] | None = None
) -> tuple[Path, Gazetteer]:
    """Download the newest dump into settings.ror_dump_dir and write settings.ror_index."""
    session = requests.Session()
    session.headers["User-Agent"] = settings.user_agent()
    url, name = find_dump_url(session, settings)
    target = settings.ror_dump_dir / name
    download(session, url, target, settings, progress)
    try:
        gaz = Gazetteer.from_dump(target)
    except DataError:
        target.unlink(missing_ok=True)
        raise
    gaz.save(settings.ror_index)
    return target, gaz
