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
