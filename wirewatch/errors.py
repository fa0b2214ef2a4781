"""The error hierarchy: every failure is transient (retry later) or permanent (record and stop)."""

from __future__ import annotations


class WirewatchError(Exception):
    """Base class. `permanent` decides, once, whether retrying can help."""

    permanent: bool = False

    def __init__(self, message: str, *, permanent: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if permanent is not None:
            self.permanent = permanent

    def __str__(self) -> str:
        return self.message


class ConfigError(WirewatchError):
    """A setting is invalid; raised at start-up."""

    permanent = True


class FetchError(WirewatchError):
    """An outbound HTTP request failed.

    `status` is the HTTP status when there was a response; `retry_after` is the delay in seconds
    the server asked for (429/503), already capped.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, permanent=permanent)
        self.status = status
        self.retry_after = retry_after


class BlockedAddressError(FetchError):
    """The URL resolves to an address the private-network guard refuses."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class FeedParseError(WirewatchError):
    """The document is not a feed we can read (permanent unless said otherwise)."""

    permanent = True


class ExtractionError(WirewatchError):
    """The page could not be turned into an article (permanent unless said otherwise)."""

    permanent = True
