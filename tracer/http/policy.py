"""What the HTTP client must know of a source, declared by the source module as `POLICY`.

The client knows no source by name: each source module declares one `SourcePolicy` (its name,
where its key is configured and how it is sent, how fast it may be asked with and without a
key, what its statuses mean, which response headers carry its budget) and the client is given
the policies, or finds those registered with `register_policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SERVER_ERRORS = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class SourcePolicy:
    name: str  # the short name sources pass to get_json ("s2")
    label: str  # how messages name it ("Semantic Scholar")
    key_setting: str | None = None  # the Settings field that holds its key ("s2_api_key")
    key_header: str | None = None  # the key travels in this header ("x-api-key") ...
    key_param: str | None = None  # ... or in this query parameter ("api_key")
    interval_with_key: float = 0.0  # seconds between two requests, per key, across processes
    interval_without_key: float = 0.0
    auth_statuses: frozenset[int] = frozenset({401, 403})  # the key was refused or is needed
    slow_down_statuses: frozenset[int] = frozenset({429})  # too fast: wait and retry
    budget_statuses: frozenset[int] = frozenset()  # the day's budget is spent: stop for today
    retry_statuses: frozenset[int] = SERVER_ERRORS  # the server failed: wait and retry
    # Words that, in the body of a slow-down or budget answer, say it is the key that is wrong.
    key_words: tuple[str, ...] = ()
    key_hint: str = ""  # the hint of an auth error: where the key is set, where to get one
    budget_hint: str = ""  # the hint when the budget is spent
    # Response headers that carry the remaining budget, and the name each is recorded under.
    budget_headers: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.key_header and self.key_param:
            raise ValueError(f"{self.name}: a key goes in a header or a parameter, not both")
        if (self.key_header or self.key_param) and not self.key_setting:
            raise ValueError(f"{self.name}: key_header/key_param need key_setting")

    def key(self, settings: Any) -> str | None:
        """The configured key, or None."""
        if not self.key_setting:
            return None
        value = getattr(settings, self.key_setting, None)
        return value if isinstance(value, str) and value else None

    def interval(self, settings: Any) -> float:
        return self.interval_with_key if self.key(settings) else self.interval_without_key


_REGISTERED: dict[str, SourcePolicy] = {}


def register_policy(policy: SourcePolicy) -> SourcePolicy:
    """Make `policy` known to every HttpClient built without an explicit list; returns it, so
    that a source module can write `POLICY = register_policy(SourcePolicy(...))`."""
    _REGISTERED[policy.name] = policy
    return policy


def registered_policies() -> list[SourcePolicy]:
    return list(_REGISTERED.values())
