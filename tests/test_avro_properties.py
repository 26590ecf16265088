"""Properties of the Avro single-object codec: generated records round-trip, and any bytes
decode or raise one of the codec's documented errors."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import avro
from tests.avro_records import strategy

DOCUMENTED = (avro.NotSingleObjectError, avro.UnknownSchemaError, avro.BadAvroError)
RECORDS = {name: strategy(avro.raw_schema(name)) for name in avro.SCHEMA_FILES}
FINGERPRINTS = [avro.schema_fingerprint(avro.load_schema(name)) for name in avro.SCHEMA_FILES]


@pytest.mark.parametrize("name", sorted(avro.SCHEMA_FILES))
@settings(max_examples=60)
@given(data=st.data())
def test_generated_records_round_trip(name, data):
    record = data.draw(RECORDS[name])
    encoded = avro.encode(record, avro.load_schema(name))
    assert encoded[:10] == avro.MAGIC + avro.schema_fingerprint(avro.load_schema(name))
    assert avro.decode(encoded) == record


def decode_or_documented_error(data: bytes):
    try:
        return avro.decode(data)
    except DOCUMENTED as exc:
        assert str(exc)
        return exc


@settings(max_examples=300)
@given(st.binary(max_size=64) | st.tuples(st.sampled_from(FINGERPRINTS), st.binary(max_size=200)).map(
    lambda fp_body: avro.MAGIC + fp_body[0] + fp_body[1]))
def test_any_bytes_decode_or_raise_a_documented_error(data):
    decode_or_documented_error(data)


@settings(max_examples=100)
@given(record=RECORDS["enriched"], cut=st.integers(0, 10**6), flip=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_truncated_or_flipped_records_decode_or_raise_a_documented_error(record, cut, flip, bit):
    encoded = avro.encode(record, avro.load_schema("enriched"))
    decode_or_documented_error(encoded[:cut % len(encoded)])
    flipped = bytearray(encoded)
    flipped[flip % len(encoded)] ^= 1 << bit
    decode_or_documented_error(bytes(flipped))
