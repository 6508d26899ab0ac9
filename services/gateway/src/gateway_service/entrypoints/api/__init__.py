"""The gateway's routes: ``/api/<service>/...`` and ``/stac/...``."""
