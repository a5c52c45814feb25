"""What an answer other than 200 means, by the source's policy: not found, the key, slow
down (retry), the day's budget spent or a wait too long (stop for today), or a plain refusal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from tracer.config import Settings
from tracer.errors import AuthError, BudgetExhausted, NotFoundError, SourceError, clean_message
from tracer.http.body import parse_json, retry_after, when_text
from tracer.http.policy import SourcePolicy

RETRY_AFTER_CAP = 120.0  # a Retry-After beyond this is a refusal for today, not a pause
_BODY_SCAN = 1024 * 1024  # how much of an error body is searched for words naming the key


def judge(
    policy: SourcePolicy,
    settings: Settings,
    now: float,
    path: str,
    status: int,
    headers: Mapping[str, str],
    data: bytes,
) -> float | None:
    """Raise for answers that a retry cannot mend; return the seconds the source asked to
    wait (None: the client's own backoff) for those it may."""
    message = api_message(data, settings)
    said = f": {message}" if message else "."
    name = policy.label
    if status == 404:
        raise NotFoundError(clean_message(f"{name} has no record at {path}{said}", settings))
    text = data[:_BODY_SCAN].decode("utf-8", "replace").lower()
    names_key = any(word in text for word in policy.key_words)
    throttled = status in policy.slow_down_statuses or status in policy.budget_statuses
    if status in policy.auth_statuses or (throttled and names_key):
        what = "refused the API key" if policy.key(settings) else "requires an API key"
        raise AuthError(
            clean_message(f"{name} {what} (HTTP {status} on {path}).", settings),
            hint=policy.key_hint or None,
            source=policy.name,
            status=status,
        )
    wait = retry_after(headers.get("Retry-After"), lambda: now)
    if status in policy.budget_statuses:
        raise refusal(policy, settings, now, path, status, wait, budget=True)
    if throttled or status in policy.retry_statuses:
        if wait is not None and wait > RETRY_AFTER_CAP:
            raise refusal(policy, settings, now, path, status, wait, budget=False)
        return wait
    raise SourceError(
        clean_message(f"{name} rejected the request to {path} (HTTP {status}){said}", settings),
        source=policy.name,
        status=status,
    )


def refusal(
    policy: SourcePolicy,
    settings: Settings,
    now: float,
    path: str,
    status: int,
    wait: float | None,
    *,
    budget: bool,
) -> BudgetExhausted:
    """The error that ends a source's step for today, saying when to try again."""
    at = datetime.fromtimestamp(now, UTC)
    if wait is not None:
        retry_at: datetime | None = at + timedelta(seconds=wait)
    elif budget:  # the day's budget: a new day starts at midnight UTC
        retry_at = (at + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        retry_at = None
    when = f"after {when_text(retry_at)}" if retry_at else "later"
    why = "says the day's budget is spent" if budget else f"asks to wait {wait:.0f} s"
    return BudgetExhausted(
        clean_message(
            f"{policy.label} {why} (HTTP {status} on {path}); it may be tried again {when}.",
            settings,
        ),
        hint=policy.budget_hint
        or "The run goes on without it; the next run asks again for what it missed.",
        source=policy.name,
        status=status,
        retry_at=retry_at,
    )


def api_message(data: bytes, settings: Settings) -> str:
    """The API's own words: S2 says {"error": ...} or {"message": ...}; OpenAlex both."""
    body = parse_json(data) if data else None
    if not isinstance(body, dict):
        return ""
    parts = [str(body[k]) for k in ("error", "message") if isinstance(body.get(k), str)]
    text = " ".join(dict.fromkeys(parts)).strip().rstrip(".")
    return clean_message(text, settings)[:300]
