"""What the simulator refuses, as the API answers it: ``{"error": code, "message": ...}`` with a status."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 422, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.headers = code, message, status, headers or {}


class NotFound(Refused):
    def __init__(self, what: str) -> None:
        super().__init__("not_found", f"{what} not found", 404)
