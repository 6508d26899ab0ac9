class RequestsError(Exception):
    """Base of the request-intake domain errors."""


class InvalidRequest(RequestsError):
    """What was asked cannot be accepted as it is (the message names the field and what to change)."""


class InvalidAoi(InvalidRequest):
    pass


class InvalidTasking(InvalidRequest):
    pass


class InvalidScenes(InvalidRequest):
    """Archive scenes that are unknown, of another mission, repeated, too many, or outside their clip."""


class UpstreamUnavailable(RequestsError):
    """A service this one asks (the catalogue, arbitration) did not answer: nothing was stored, try again.
    Answered 503 with Retry-After by the runtime (a transient failure)."""

    failure_kind = "transient"


class RequestNotFound(RequestsError):
    pass


class IdempotencyKeyReused(RequestsError):
    pass


class ConcurrentUpdate(RequestsError):
    pass


class NotEligible(RequestsError):
    """The requester's entity may not order (yet): no entity, unknown, not approved, or not for this mission."""


class IllegalTransition(RequestsError):
    """What was asked cannot be done in the request's current status (the message says why)."""


class NotRequester(RequestsError):
    """Only the person who submitted the request may do this."""


class NotAllowed(RequestsError):
    """The caller may not see what they asked for (the message says why)."""
