"""The one error of alert delivery: a readable message plus the retry decision, made once."""

from __future__ import annotations

from wirewatch.errors import WirewatchError


class TransportError(WirewatchError):
    """A channel could not deliver an alert.

    `permanent`: retrying the same delivery cannot help (record it and stop).
    `disable`: the endpoint said it is gone (HTTP 410); the subscription must be disabled.
    `retry_after`: seconds the endpoint asked us to wait (429/503), already capped, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        disable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, permanent=permanent or disable)
        self.disable = disable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (f"TransportError({self.message!r}, permanent={self.permanent}, "
                f"disable={self.disable})")
