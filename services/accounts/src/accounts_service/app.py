"""The factory under its former module path, for importers not yet moved to ``bootstrap``."""

from accounts_service.bootstrap import create_app

__all__ = ["create_app"]
