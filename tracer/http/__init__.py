"""The one HTTP session of every source: see client.py (the session), policy.py (what a
source declares), pace.py (pacing across processes), cache.py and body.py (bounded reads)."""

from tracer.http.client import (
    LIST_TTL,
    NO_STORE,
    RECORD_TTL,
    HttpClient,
    clear_cache,
)
from tracer.http.pace import SharedPacer, key_digest
from tracer.http.policy import SourcePolicy, register_policy, registered_policies
from tracer.http.statuses import RETRY_AFTER_CAP

__all__ = [
    "LIST_TTL",
    "NO_STORE",
    "RECORD_TTL",
    "RETRY_AFTER_CAP",
    "HttpClient",
    "SharedPacer",
    "SourcePolicy",
    "clear_cache",
    "key_digest",
    "register_policy",
    "registered_policies",
]
