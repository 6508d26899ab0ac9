"""What can go wrong in arbitration, in words the caller can act on (mapped to HTTP in ``bootstrap``)."""


class ArbitrationError(Exception):
    """Base of the arbitration domain errors."""


class CaseNotFound(ArbitrationError):
    """No case for this request (404)."""


class NotYourCell(ArbitrationError):
    """The caller does not sit in the cell of this case (403)."""


class InvalidDecision(ArbitrationError):
    """The decision misses what it needs: a reason, a reduced area (422)."""


class DecisionConflict(ArbitrationError):
    """The case's state does not allow this decision now (409)."""


class ConcurrentUpdate(ArbitrationError):
    """The case kept changing under this change (409: try again)."""


class UnknownCell(ArbitrationError):
    """No such cell (404)."""
