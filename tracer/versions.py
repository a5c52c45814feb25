"""What a classification was made with, as a short fingerprint (the usage judge has its own,
`tracer.usage.rules_version`).

The store records it beside every classified authorship; a later run whose rules, reference data
or code differ classifies again what is stored, and nothing else.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from tracer import __version__


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:12]


@cache
def _package_data(package: str) -> tuple[bytes, ...]:
    folder = resources.files(package)
    return tuple(
        item.name.encode() + b"\0" + item.read_bytes()
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.is_file() and item.name.endswith((".yaml", ".json"))
    )


def classifier_version(reference: str) -> str:
    """The affiliation classifier: its rule and list files, the reference data it loaded (the
    gazetteer, the fetched official lists), the code."""
    return _digest(__version__, reference, *_package_data("tracer.affiliations.data"))
