"""Limits of a STAC search, checked before any work is done on it (issue 11).

A search is public and anonymous, so what one request may ask is bounded *before* it is parsed
deeply, evaluated or applied: the cql2 parser recurses (a filter nested a few thousand levels
deep overflows its stack and kills the process), the fields extension costs its lists per item,
and every member reaches the database. The values are configuration (``CATALOGUE_LIMITS``, see
the settings); each refusal names the limit it hit, so a client knows what to change.

CQL2 text is scanned cheaply (length, parenthesis depth, tokens, string lengths) before the
parser sees it; the JSON it parses to, like a CQL2-JSON filter, is then walked with the same
bounds of depth, nodes, strings and arrays, without recursing further than the depth allowed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


class BadSearch(ValueError):
    """The search cannot be understood: 400 with this message."""


class LimitExceeded(BadSearch):
    """A search asks more than a limit allows: 400, saying which limit."""


@dataclass(frozen=True)
class SearchLimits:
    filter_max_chars: int = 20_000  # a CQL2-text filter, or a filter/query/intersects given as a JSON string
    filter_max_depth: int = 16  # expressions inside one another (operators, functions, arrays)
    filter_max_nodes: int = 1_000  # operators, properties and values in one filter (or query)
    filter_max_string_chars: int = 1_000  # one string value, property or operator name
    filter_max_array: int = 1_000  # values in one array (e.g. IN (...))
    geometry_max_vertices: int = 10_000  # of `intersects`, and of each geometry in a filter
    fields_max: int = 50  # names in fields include + exclude
    field_max_chars: int = 200  # one field name (a dotted path)
    sortby_max: int = 8  # sort keys
    ids_max: int = 1_000
    id_max_chars: int = 200
    collections_max: int = 50
    collection_max_chars: int = 100
    token_max_chars: int = 2_500  # a paging token (next|prev:<hex collection>:<hex id>)
    datetime_max_chars: int = 100


# ---------------------------------------------------------------------------------------------
# CQL2 text: a cheap scan before the parser

_TEXT_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<open>\()
  | (?P<close>\))
  | (?P<comma>,)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_:.]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_WKT = frozenset({"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON",
                  "GEOMETRYCOLLECTION", "BBOX", "ENVELOPE"})
WKT_NESTING = 4  # GEOMETRYCOLLECTION(MULTIPOLYGON(((x y, ...)))): parentheses a geometry literal adds


def check_text_filter(text: str, limits: SearchLimits) -> None:
    """Bounds a CQL2-text filter before it is parsed: its length, how deep its parentheses go, how
    many tokens it has and how long its strings are. Numbers inside a geometry literal count as
    coordinates (two per vertex), not as nodes."""
    if len(text) > limits.filter_max_chars:
        raise LimitExceeded(f"filter is {len(text)} characters long; at most {limits.filter_max_chars} "
                            "(filter_max_chars)")
    depth = nodes = coordinates = 0
    geometry_at: int | None = None  # the depth at which the geometry literal being read opened
    previous_word = ""
    max_depth = limits.filter_max_depth + WKT_NESTING
    for match in _TEXT_TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind in ("space", "comma"):
            continue
        if kind == "open":
            if previous_word in _WKT and geometry_at is None:
                geometry_at = depth
            depth += 1
            if depth > max_depth:
                raise LimitExceeded(f"filter nests parentheses more than {max_depth} deep "
                                    f"(filter_max_depth {limits.filter_max_depth}, plus a geometry's own)")
        elif kind == "close":
            depth = max(depth - 1, 0)
            if geometry_at is not None and depth <= geometry_at:
                geometry_at = None
        elif geometry_at is not None and kind == "other" and value in "+-":
            pass  # the sign of a coordinate
        elif kind == "number" and geometry_at is not None:
            coordinates += 1
            if coordinates > 2 * limits.geometry_max_vertices:
                raise LimitExceeded(f"a geometry in the filter has more than {limits.geometry_max_vertices} "
                                    "vertices (geometry_max_vertices)")
        else:
            nodes += 1
            if nodes > limits.filter_max_nodes:
                raise LimitExceeded(f"filter has more than {limits.filter_max_nodes} terms (filter_max_nodes)")
            if kind in ("string", "quoted") and len(value) - 2 > limits.filter_max_string_chars:
                raise LimitExceeded(f"a string in the filter is longer than {limits.filter_max_string_chars} "
                                    "characters (filter_max_string_chars)")
        previous_word = value.upper() if kind == "word" else ""


# ---------------------------------------------------------------------------------------------
# CQL2 JSON (also what CQL2 text parses to, and the query extension once converted)

_LEAVES = ("property", "timestamp", "date")
GEOMETRY_TYPES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                            "GeometryCollection"})


class _Walk:
    def __init__(self, limits: SearchLimits, what: str) -> None:
        self.limits, self.what, self.nodes = limits, what, 0

    def count(self) -> None:
        self.nodes += 1
        if self.nodes > self.limits.filter_max_nodes:
            raise LimitExceeded(f"{self.what} has more than {self.limits.filter_max_nodes} terms (filter_max_nodes)")

    def string(self, value: str) -> None:
        if len(value) > self.limits.filter_max_string_chars:
            raise LimitExceeded(f"a string in the {self.what} is longer than {self.limits.filter_max_string_chars} "
                                "characters (filter_max_string_chars)")

    def deeper(self, depth: int) -> int:
        if depth + 1 > self.limits.filter_max_depth:
            raise LimitExceeded(f"{self.what} nests expressions more than {self.limits.filter_max_depth} deep "
                                "(filter_max_depth)")
        return depth + 1

    def array(self, value: list[Any]) -> None:
        if len(value) > self.limits.filter_max_array:
            raise LimitExceeded(f"an array in the {self.what} has {len(value)} values; at most "
                                f"{self.limits.filter_max_array} (filter_max_array)")

    def node(self, node: Any, depth: int) -> None:
        self.count()
        if isinstance(node, str):
            self.string(node)
        elif isinstance(node, float) and not math.isfinite(node):
            raise LimitExceeded(f"a number in the {self.what} is not finite")
        elif isinstance(node, list):
            self.array(node)
            inner = self.deeper(depth)
            for item in node:
                self.node(item, inner)
        elif isinstance(node, dict):
            self.object(node, depth)
        elif node is not None and not isinstance(node, (bool, int, float)):
            raise LimitExceeded(f"the {self.what} holds a value that is not JSON")

    def object(self, node: dict[str, Any], depth: int) -> None:
        if "op" in node:
            op, args = node["op"], node.get("args", [])
            if not isinstance(op, str):
                raise LimitExceeded(f"an operator in the {self.what} is not a string")
            self.string(op)
            inner = self.deeper(depth)
            if not isinstance(args, list):
                args = [args]
            self.array(args)
            for arg in args:
                self.node(arg, inner)
        elif any(key in node for key in _LEAVES):
            for value in node.values():
                if not isinstance(value, str):
                    raise LimitExceeded(f"{'/'.join(node)} in the {self.what} must be a string")
                self.string(value)
        elif "interval" in node:
            ends = node["interval"]
            if not isinstance(ends, list) or len(ends) != 2:
                raise LimitExceeded(f"an interval in the {self.what} has two ends")
            for end in ends:
                self.node(end, self.deeper(depth))
        elif "bbox" in node:
            check_bbox_numbers(node["bbox"], f"a bbox in the {self.what}")
        elif node.get("type") in GEOMETRY_TYPES:
            check_geometry(node, self.limits, f"a geometry in the {self.what}")
        else:
            keys = ", ".join(sorted(str(k)[:40] for k in node)[:5])
            raise LimitExceeded(f"the {self.what} holds an object that is not a CQL2 expression ({keys})")


def check_json_filter(node: Any, limits: SearchLimits, what: str = "filter") -> None:
    """Bounds a CQL2-JSON expression (depth, nodes, strings, arrays, geometries) without recursing
    deeper than ``filter_max_depth`` allows, before anything else walks it."""
    _Walk(limits, what).node(node, 0)


# ---------------------------------------------------------------------------------------------
# Geometries (intersects, and geometry literals of a filter): RFC 7946, bounded

_POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
                   "MultiPolygon": 3}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_position(position: Any, what: str) -> None:
    if not isinstance(position, list) or len(position) not in (2, 3) or not all(_finite(v) for v in position):
        raise LimitExceeded(f"{what}: a position is 2 or 3 finite numbers [longitude, latitude(, height)]")
    if not (-180 <= position[0] <= 180 and -90 <= position[1] <= 90):
        raise LimitExceeded(f"{what}: position {position[:2]} is outside longitude [-180, 180] / latitude [-90, 90]")


def check_geometry(geometry: Any, limits: SearchLimits, what: str = "intersects") -> None:
    """A GeoJSON geometry (RFC 7946): a known type, coordinates nested as the type says, finite
    positions within WGS 84 ranges, closed rings of at least four positions, no ``crs``, at most
    ``geometry_max_vertices`` vertices; a GeometryCollection holds no other collection."""
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        raise LimitExceeded(f"{what} must be a GeoJSON geometry ({', '.join(sorted(GEOMETRY_TYPES))})")
    if "crs" in geometry:
        raise LimitExceeded(f"{what}: a crs member is not GeoJSON (RFC 7946): coordinates are WGS 84")
    vertices = 0
    members = geometry.get("geometries") if geometry["type"] == "GeometryCollection" else [geometry]
    if not isinstance(members, list) or not members:
        raise LimitExceeded(f"{what}: a GeometryCollection has a non-empty geometries list")
    for member in members:
        if not isinstance(member, dict) or member.get("type") not in _POSITION_DEPTH:
            raise LimitExceeded(f"{what}: a GeometryCollection holds simple geometries only")
        if "crs" in member:
            raise LimitExceeded(f"{what}: a crs member is not GeoJSON (RFC 7946): coordinates are WGS 84")
        level = [member.get("coordinates")]
        kind = member["type"]
        for _ in range(_POSITION_DEPTH[kind]):  # down to the lists of positions, one level at a time
            nxt: list[Any] = []
            for part in level:
                if not isinstance(part, list) or not part:
                    raise LimitExceeded(f"{what}: {kind} coordinates are not nested as GeoJSON says")
                nxt.extend(part)
                if len(nxt) > limits.geometry_max_vertices:
                    raise LimitExceeded(f"{what} has more than {limits.geometry_max_vertices} vertices "
                                        "(geometry_max_vertices)")
            if kind in ("Polygon", "MultiPolygon") and _ == _POSITION_DEPTH[kind] - 2:
                for ring in nxt:
                    if not isinstance(ring, list):
                        raise LimitExceeded(f"{what}: {kind} coordinates are not nested as GeoJSON says")
                    if len(ring) < 4 or ring[0] != ring[-1]:
                        raise LimitExceeded(f"{what}: a polygon ring is closed (first position = last) and has "
                                            "at least 4 positions")
            level = nxt
        vertices += len(level)
        if vertices > limits.geometry_max_vertices:
            raise LimitExceeded(f"{what} has more than {limits.geometry_max_vertices} vertices "
                                "(geometry_max_vertices)")
        for position in level:
            check_position(position, what)


def check_bbox_numbers(value: Any, what: str = "bbox") -> list[float]:
    """4 or 6 finite numbers, longitudes within [-180, 180] and latitudes within [-90, 90], south ≤ north."""
    if not isinstance(value, list) or len(value) not in (4, 6) or not all(_finite(v) for v in value):
        raise LimitExceeded(f"{what} must be 4 or 6 numbers, all finite")
    half = len(value) // 2
    west, south, east, north = value[0], value[1], value[half], value[half + 1]
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise LimitExceeded(f"{what} longitudes must be within [-180, 180]")
    if not (-90 <= south <= 90 and -90 <= north <= 90 and south <= north):
        raise LimitExceeded(f"{what} latitudes must be within [-90, 90] with south ≤ north")
    return [float(v) for v in value]


# ---------------------------------------------------------------------------------------------
# Lists and names

def check_names(values: list[Any], *, what: str, most: int, most_name: str, chars: int, chars_name: str) -> list[str]:
    if len(values) > most:
        raise LimitExceeded(f"{what}: {len(values)} given; at most {most} ({most_name})")
    for v in values:
        if not isinstance(v, str) or not v:
            raise LimitExceeded(f"{what} are non-empty strings")
        if len(v) > chars:
            raise LimitExceeded(f"{what}: one is longer than {chars} characters ({chars_name})")
    return values


_TOKEN = re.compile(r"(?i)(next|prev):(?:[0-9a-f]{2})+:(?:[0-9a-f]{2})+")


def check_token(token: Any, limits: SearchLimits) -> str:
    """A paging token as this catalogue hands them out: ``next|prev:<hex>:<hex>``."""
    if not isinstance(token, str) or len(token) > limits.token_max_chars or not _TOKEN.fullmatch(token):
        raise LimitExceeded("token is not a paging token this catalogue handed out (take it from a next or "
                            "prev link)")
    return token
