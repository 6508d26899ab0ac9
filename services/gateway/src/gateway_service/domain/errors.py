"""What can go wrong between the gateway and a service; the entrypoint answers each in one place."""


class GatewayError(Exception):
    """Base of the gateway's errors; the message is shown to the caller as it is."""


class NotFound(GatewayError):
    """No service behind this path, or a path the gateway refuses to forward: 404."""


class UpstreamError(GatewayError):
    """The call did not get an answer from the service; ``attempts`` says how often it was sent."""

    def __init__(self, service: str, message: str, attempts: int) -> None:
        super().__init__(message)
        self.service = service
        self.attempts = attempts


class UpstreamUnavailable(UpstreamError):
    """Not reached, or the connection was lost before any answer: 503 with ``Retry-After``."""


class UpstreamTimeout(UpstreamError):
    """Sent, but no answer in time: 504 (it may still be applied, so it is not sent again)."""


class RateLimited(GatewayError):
    """Too many calls for one of the caller's counters: 429 with ``Retry-After``."""

    def __init__(self, message: str, retry_after: int, limit: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit


class LimitsUnavailable(GatewayError):
    """The counters of a sensitive route cannot be read, and that route is refused rather than let
    through uncounted: 503 with ``Retry-After``."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BodyTooLarge(GatewayError):
    """A body larger than its route accepts: 413."""
