"""Typed reading of API rows: a field of the wrong type rejects the row, never crashes the scan.

The sources parse JSON they do not control. Null and missing fields are normal (they read as
None or empty) and so are null entries inside lists (dropped); any other value of the wrong type
(a `title` that is a list, an `externalIds` that is a string, an `author` that is a number)
raises BadRow, and the caller skips the row and counts it. A small reader rather than a
validation library: the rules are few (null is fine, wrong type is not), the same for every
field, and a library's model per record kind would restate the parsers beside them.
"""

from __future__ import annotations

from typing import Any


class BadRow(ValueError):
    """A row whose field has the wrong type; `field` names it for the note."""

    def __init__(self, field: str, value: Any) -> None:
        super().__init__(f"{field} is {type(value).__name__}")
        self.field = field


def opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise BadRow(key, value)


def opt_int(data: dict[str, Any], key: str) -> int | None:
    """An integer; S2 sends some ids as digit strings (snippet corpusId)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise BadRow(key, value)


def opt_float(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise BadRow(key, value)


def opt_bool(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise BadRow(key, value)


def opt_dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested object; {} when null or missing."""
    value = data.get(key)
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise BadRow(key, value)


def opt_list(data: dict[str, Any], key: str) -> list[Any]:
    """A list with its null entries dropped; [] when null or missing."""
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None] if None in value else value
    raise BadRow(key, value)


def str_list(data: dict[str, Any], key: str) -> list[str]:
    items = opt_list(data, key)
    for item in items:
        if not isinstance(item, str):
            raise BadRow(f"{key}[]", item)
    return items


def dict_list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = opt_list(data, key)
    for item in items:
        if not isinstance(item, dict):
            raise BadRow(f"{key}[]", item)
    return items


def skipped_note(count: int, source: str, what: str, fields: list[str]) -> str:
    """One sentence for the report about rows left out for their shape."""
    named = ", ".join(dict.fromkeys(fields)) if fields else "a field"
    return (
        f"{source} sent {count:,} {what} with a field of the wrong type ({named}); "
        "they were skipped."
    )
