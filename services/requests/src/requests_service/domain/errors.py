class RequestsError(Exception):
    """Base of the request-intake domain errors."""


class InvalidAoi(RequestsError):
    pass


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
