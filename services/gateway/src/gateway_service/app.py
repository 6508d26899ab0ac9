"""Kept for the callers that import ``gateway_service.app``: the composition root is
:mod:`gateway_service.bootstrap`."""

from gateway_service.bootstrap import create_app

__all__ = ["create_app"]
