"""Failure classification (PLACEHOLDER written by the lead so the relay can import it; helper H1
owns this module and replaces it: keep `Failure.{TRANSIENT,PERMANENT,UNKNOWN}` and `classify(exc)`)."""

from __future__ import annotations

from enum import Enum

from aiokafka.errors import KafkaError
from pymongo.errors import ConnectionFailure


class Failure(Enum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, KafkaError):
        return Failure.TRANSIENT if getattr(exc, "retriable", False) else Failure.PERMANENT
    if isinstance(exc, (ConnectionFailure, OSError, TimeoutError)):
        return Failure.TRANSIENT
    return Failure.UNKNOWN
