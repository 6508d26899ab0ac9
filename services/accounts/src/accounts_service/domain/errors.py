"""What can go wrong in the accounts domain; the service maps each to an HTTP status in one table."""


class AccountsError(Exception):
    """Base of the domain's errors; the message is shown to the caller as it is."""


class InvalidInput(AccountsError):
    """The input breaks a rule of the domain (an identifier checksum, a missing partner...): 422."""


class NotFound(AccountsError):
    """404."""


class Conflict(AccountsError):
    """The state does not allow it (already done, wrong step, duplicate): 409."""


class LinkInvalid(AccountsError):
    """A one-time link is unknown, expired or already used: 410."""


class NotAllowed(AccountsError):
    """The caller may not do this to this entity or user: 403."""


class ConcurrentUpdate(AccountsError):
    """Someone changed the aggregate meanwhile and retries did not get through: 409."""
