"""Schema evolution: each released schema (``schemas/history/NAME.vN.avsc``) and the next, and
the latest and the current ``schemas/NAME.avsc``, read each other's records both ways."""
import copy
import io
import json
import re
import sys
from pathlib import Path

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.avro_records import sample, strategy

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
NAMES = ("article", "enriched_article", "dead_letter")


class Incompatible(AssertionError):
    """Records of one schema do not read with the other, or read back changed."""


def history(name: str) -> list[dict]:
    """The released schemas of ``name``, oldest first (v1, v2, ... by number, not by text)."""
    files = {int(re.fullmatch(rf"{name}\.v(\d+)\.avsc", p.name).group(1)): p
             for p in (SCHEMAS / "history").glob(f"{name}.v*.avsc")}
    assert sorted(files) == list(range(1, len(files) + 1)), f"{name}: versions {sorted(files)} have a gap"
    return [json.loads(files[n].read_text(encoding="utf-8")) for n in sorted(files)]


def current(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.avsc").read_text(encoding="utf-8"))


def read_across(record, writer: dict, reader: dict):
    """Write ``record`` with ``writer`` (schemaless, as in single-object messages), read it with ``reader``."""
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(copy.deepcopy(writer)), record)
    buf.seek(0)
    return fastavro.schemaless_reader(buf, fastavro.parse_schema(copy.deepcopy(writer)),
                                      fastavro.parse_schema(copy.deepcopy(reader)))


def _same_where_both_have(written, read, path="record"):
    if isinstance(written, dict) and isinstance(read, dict):
        for key in written.keys() & read.keys():
            _same_where_both_have(written[key], read[key], f"{path}.{key}")
    elif isinstance(written, list) and isinstance(read, list) and len(written) == len(read):
        for i, (w, r) in enumerate(zip(written, read)):
            _same_where_both_have(w, r, f"{path}[{i}]")
    elif written != read:
        raise Incompatible(f"{path}: written {written!r}, read back {read!r}")


def check_one_way(record, writer: dict, reader: dict) -> None:
    try:
        read = read_across(record, writer, reader)
    except Exception as exc:  # fastavro's resolution errors have no common base class
        raise Incompatible(f"a record of the writer schema does not read with the reader schema: {exc!r}") from exc
    _same_where_both_have(record, read)


def check_compatible(old: dict, new: dict) -> None:
    """Full compatibility: the fullest and the emptiest record of each, read with the other.
    The fullest takes every union's non-null branch and fills every array and map, so every
    field of every nested type is written at least once."""
    for writer, reader in ((old, new), (new, old)):
        for fullest in (True, False):
            check_one_way(sample(writer, fullest), writer, reader)


@pytest.mark.parametrize("name", NAMES)
def test_every_released_schema_and_the_current_one_read_each_others_records(name):
    versions = history(name) + [current(name)]
    for old, new in zip(versions, versions[1:]):
        check_compatible(old, new)


@pytest.mark.parametrize("name", NAMES)
def test_the_current_schema_is_the_latest_release_or_compatible_with_it(name):
    latest = history(name)[-1]
    if current(name) != latest:
        # Changed since the last release: allowed only compatibly (the release then freezes it).
        check_compatible(latest, current(name))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=20)
@given(data=st.data())
def test_generated_records_read_across_the_latest_release(name, data):
    latest, now = history(name)[-1], current(name)
    for writer, reader in ((latest, now), (now, latest)):
        check_one_way(data.draw(strategy(writer)), writer, reader)


def _entity_fields(schema: dict) -> list:
    return next(f for f in schema["fields"] if f["name"] == "entities")["type"]["items"]["fields"]


def _with_defaulted_fields(schema: dict) -> dict:
    changed = copy.deepcopy(schema)
    changed["fields"].append({"name": "section", "type": ["null", "string"], "default": None, "doc": "New."})
    _entity_fields(changed).append({"name": "salience", "type": "double", "default": 0.0, "doc": "New."})
    return changed


def test_added_defaulted_fields_are_compatible_both_ways_and_read_as_their_defaults():
    old = history("enriched_article")[-1]
    new = _with_defaulted_fields(old)
    check_compatible(old, new)
    read = read_across(sample(old, True), old, new)
    assert read["section"] is None and read["entities"][0]["salience"] == 0.0


def _field(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


def _added_without_default(s):
    s["fields"].append({"name": "section", "type": "string", "doc": "New, no default."})


def _default_removed_from_added_field(s):
    s["fields"].append({"name": "section", "type": ["null", "string"], "doc": "New, default forgotten."})


def _type_changed(s):
    _field(s, "body")["type"] = "bytes"


def _nested_type_changed(s):
    next(f for f in _entity_fields(s) if f["name"] == "start_char")["type"] = "string"


def _renamed_without_alias(s):
    _field(s, "title")["name"] = "headline"
    _field(s, "headline")["type"] = "string"
    del _field(s, "headline")["default"]


def _nullable_made_required(s):
    _field(s, "url")["type"] = "string"
    del _field(s, "url")["default"]


def _narrowed(s):
    next(f for f in _field(s, "kafka")["type"][1]["fields"] if f["name"] == "offset")["type"] = "int"


@pytest.mark.parametrize("change", [_added_without_default, _default_removed_from_added_field, _type_changed,
                                    _nested_type_changed, _renamed_without_alias, _nullable_made_required,
                                    _narrowed])
def test_an_incompatible_change_is_caught(change, monkeypatch):
    old = history("enriched_article")[-1]
    new = copy.deepcopy(old)
    change(new)
    with pytest.raises(Incompatible):
        check_compatible(old, new)
    # ... and by the tests above, were it made in schemas/enriched_article.avsc after the release.
    monkeypatch.setattr(sys.modules[__name__], "current", lambda name: new)
    with pytest.raises(Incompatible):
        test_the_current_schema_is_the_latest_release_or_compatible_with_it("enriched_article")
    with pytest.raises(Incompatible):
        test_every_released_schema_and_the_current_one_read_each_others_records("enriched_article")
