"""The one outbound HTTP gate of Wirewatch: guarded, capped, timed out, errors decided once."""

from wirewatch.net.fetch import Gate, Response, check_url, fetch
from wirewatch.net.guard import AddressPolicy, blocked_reason
from wirewatch.net.outcomes import cache_lifetime, outcome_error, parse_retry_after
from wirewatch.net.urls import host_key

__all__ = [
    "AddressPolicy",
    "Gate",
    "Response",
    "blocked_reason",
    "cache_lifetime",
    "check_url",
    "fetch",
    "host_key",
    "outcome_error",
    "parse_retry_after",
]
