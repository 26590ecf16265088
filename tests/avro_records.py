"""Records for any Avro schema of ours: a hypothesis strategy, and the fullest and emptiest record.

Handles what ``schemas/`` uses: records, unions, arrays, maps, named-type references, the
primitives and ``timestamp-millis``. Values are the ones fastavro reads back (aware UTC
datetimes at millisecond precision, no NaN), so ``decode(encode(r)) == r`` can be asserted.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

# No lone surrogates: Avro strings are UTF-8, and the pipeline never produces them.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
INT = st.integers(-2**31, 2**31 - 1)
LONG = st.integers(-2**63, 2**63 - 1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MOMENT = st.integers(-2**40, 2**40).map(lambda ms: EPOCH + timedelta(milliseconds=ms))
PRIMITIVES = {
    "null": st.none(), "boolean": st.booleans(), "int": INT, "long": LONG,
    "float": st.floats(allow_nan=False, width=32), "double": st.floats(allow_nan=False),
    "string": TEXT, "bytes": st.binary(max_size=12),
}
SAMPLE = {"null": None, "boolean": True, "int": 7, "long": 2**40, "float": 0.5, "double": 0.25,
          "string": "text é", "bytes": b"\x00\xff"}


def _collect(schema, named: dict, namespace: str | None = None) -> dict:
    """Every named type in ``schema``, by short and full name (a later field may name an earlier type)."""
    if isinstance(schema, list):
        for branch in schema:
            _collect(branch, named, namespace)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum", "fixed"):
            namespace = schema.get("namespace", namespace)
            named[schema["name"]] = schema
            if namespace:
                named[f"{namespace}.{schema['name']}"] = schema
        for field in schema.get("fields", []):
            _collect(field["type"], named, namespace)
        for key in ("items", "values"):
            if key in schema:
                _collect(schema[key], named, namespace)
        if isinstance(schema.get("type"), (dict, list)):
            _collect(schema["type"], named, namespace)
    return named


def _named(schema, named: dict):
    return named.get(schema, schema) if isinstance(schema, str) else schema


def strategy(schema, named: dict | None = None) -> st.SearchStrategy:
    """A strategy of records (values) of ``schema`` (a raw .avsc dict or a type)."""
    named = _collect(schema, {}) if named is None else named
    schema = _named(schema, named)
    if isinstance(schema, str):
        return PRIMITIVES[schema]
    if isinstance(schema, list):
        return st.one_of([strategy(branch, named) for branch in schema])
    kind = schema["type"]
    if schema.get("logicalType") == "timestamp-millis":
        return MOMENT
    if kind == "record":
        return st.fixed_dictionaries({f["name"]: strategy(f["type"], named) for f in schema["fields"]})
    if kind == "array":
        return st.lists(strategy(schema["items"], named), max_size=3)
    if kind == "map":
        return st.dictionaries(TEXT, strategy(schema["values"], named), max_size=3)
    if kind == "enum":
        return st.sampled_from(schema["symbols"])
    return strategy(kind, named)


def sample(schema, fullest: bool, named: dict | None = None):
    """One record of ``schema``: ``fullest`` takes every union's last branch and fills every
    array and map (so each field of every nested type is written); else the first branch, empty."""
    named = _collect(schema, {}) if named is None else named
    schema = _named(schema, named)
    if isinstance(schema, str):
        return SAMPLE[schema]
    if isinstance(schema, list):
        return sample(schema[-1] if fullest else schema[0], fullest, named)
    kind = schema["type"]
    if schema.get("logicalType") == "timestamp-millis":
        return datetime(2025, 6, 4, 13, 21, 0, 123000, tzinfo=timezone.utc)
    if kind == "record":
        return {f["name"]: sample(f["type"], fullest, named) for f in schema["fields"]}
    if kind == "array":
        return [sample(schema["items"], fullest, named)] if fullest else []
    if kind == "map":
        return {"key": sample(schema["values"], fullest, named)} if fullest else {}
    if kind == "enum":
        return schema["symbols"][-1 if fullest else 0]
    return sample(kind, fullest, named)
