"""pgstac's hydration, done here rather than in the database.

pgstac stores each item *dehydrated*: what it shares with its collection's base item is left out.
Its ``search()`` merges the two back in PL/pgSQL (``merge_jsonb``, one recursive SQL call per
node), which costs 0.2–0.3 ms an item, often most of the engine's time on a page of 100. Asked with
``nohydrate``, it returns each item with its base item beside it, and this module merges them
with the same rules:

- a value marked do-not-merge (``DO_NOT_MERGE``) is dropped;
- a value the item lacks (or has as null) comes from the base item;
- objects merge key by key, arrays of equal length element by element (two empty ones give
  nothing), anything else keeps the item's value;
- null members of objects are dropped at every depth (pgstac's ``jsonb_strip_nulls``).
"""

from __future__ import annotations

from typing import Any

DO_NOT_MERGE = "𒍟※"
BASE_ITEM = "pgstac:base_item"


_NESTED = (dict, list)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) if isinstance(v, _NESTED) else v for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip(v) if isinstance(v, _NESTED) else v for v in value]
    return value


def _merge(item: Any, base: Any) -> Any:
    if item is None:
        return _strip(base)
    if isinstance(item, dict):
        if not isinstance(base, dict):
            return _strip(item)
        out = {}
        for key, value in item.items():
            merged = _merge(value, base.get(key)) if value != DO_NOT_MERGE else None
            if merged is not None:
                out[key] = merged
        for key, value in base.items():
            if key not in item and value is not None:
                out[key] = _strip(value)
        return out
    if isinstance(item, list):
        if isinstance(base, list) and len(base) == len(item):
            # pgstac aggregates the merged elements: none at all gives SQL NULL, dropped
            return [None if i == DO_NOT_MERGE else _merge(i, b) for i, b in zip(item, base, strict=True)] or None
        return _strip(item)
    return item


def hydrate(feature: dict[str, Any]) -> dict[str, Any]:
    """A feature from ``search()`` with ``nohydrate`` (its base item under ``pgstac:base_item``),
    as ``search()`` would have returned it hydrated."""
    base = feature.pop(BASE_ITEM, None)
    if not isinstance(base, dict):
        return feature
    # PostGIS wrote the geometry (ST_AsGeoJSON: never a null in it) and no base item has one:
    # nothing to merge or strip in its coordinates, the bulk of an item
    geometry = feature.pop("geometry", None) if "geometry" not in base else None
    hydrated = _merge(feature, base)
    if geometry is not None:
        hydrated["geometry"] = geometry
    return hydrated
