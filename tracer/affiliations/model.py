"""What the classifier answers: one Affiliation per distinct affiliation, with its flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECTORS = (
    "academic",
    "commercial",
    "government",
    "military",
    "research institute",
    "healthcare",
    "nonprofit",
    "other",
    "unknown",
)

# Lists whose listings carry no dates (a tracker, and the project's own categories): a flag
# on them says nothing of when. On every other list a listing has a start, and one without
# (its date not found) may have been in force at any time.
UNDATED_LISTS = frozenset({"aspi-cdut", "pla-university", "police-security"})

METHODS = ("openalex", "ror-exact", "ror-fuzzy", "watchlist", "rule", "country-only", "none")


@dataclass(frozen=True)
class Flag:
    """One listing of an institution on a public list, with its source and dates."""

    list: str  # short id: "us-entity-list", "dod-1260h", "aspi-cdut", "pla-university"
    label: str  # human text: "US Entity List"
    category: str | None = None  # e.g. ASPI "Seven sons of national defence"
    source: str | None = None  # URL of the government or public list
    start: str | None = None  # ISO date or YYYY-MM, None where unknown
    end: str | None = None  # None while current

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict: it is called for every affiliation of
        # every author a scan classifies, and asdict's deep copy was most of the cost.
        return {
            "list": self.list,
            "label": self.label,
            "category": self.category,
            "source": self.source,
            "start": self.start,
            "end": self.end,
        }


@dataclass
class Affiliation:
    raw: str | None
    institution_id: str | None = None  # "https://ror.org/05d2yfz11" or OpenAlex "I..." when no ROR
    institution_name: str | None = None
    parent_id: str | None = None
    parent_name: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    sector: str = "unknown"
    flags: list[Flag] = field(default_factory=list)
    confidence: float = 0.0
    method: str = "none"

    @property
    def matched(self) -> bool:
        return self.institution_id is not None or self.institution_name is not None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict, in their order (the same as dataclasses.asdict)."""
        return {
            "raw": self.raw,
            "institution_id": self.institution_id,
            "institution_name": self.institution_name,
            "parent_id": self.parent_id,
            "parent_name": self.parent_name,
            "country": self.country,
            "sector": self.sector,
            "flags": [flag.to_dict() for flag in self.flags],
            "confidence": self.confidence,
            "method": self.method,
        }
