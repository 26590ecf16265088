"""Bad raw inputs of every kind the contract names, with the error class each must get."""
import json
from typing import NamedTuple

from pipelines import avro

GERMAN = ("Die Bundesregierung hat am Mittwoch neue Maßnahmen beschlossen, um die Wirtschaft zu stärken. "
          "Der Kanzler sagte in Berlin, die Lage sei ernst, aber beherrschbar, und kündigte Gespräche an.")
FRENCH = ("Le gouvernement français a annoncé mercredi de nouvelles mesures pour soutenir l'économie. "
          "Le président a déclaré à Paris que la situation était grave mais maîtrisable.")

BAD_INPUTS = [
    (b"{this is not json", "MalformedJSON"),
    (b"\xff\xfe\xfa not utf-8 at all \xc3\x28", "NotUTF8"),
    (json.dumps({"title": "Types", "body": ["a", "list"]}).encode(), "WrongType"),
    (json.dumps({"title": "No body here"}).encode(), "MissingBody"),
    (json.dumps({"title": "Empty", "body": "   "}).encode(), "EmptyBody"),
    (json.dumps({"title": "Huge", "body": "word " * 3000}).encode(), "TooLarge"),
    (json.dumps({"title": "Nachrichten", "body": GERMAN}).encode(), "NotEnglish"),
    (json.dumps({"title": "Actualités", "body": FRENCH, "language": "fr"}).encode(), "NotEnglish"),
    (bytes(range(256)) * 4, "NotUTF8"),
    (b"\xc3\x01" + bytes.fromhex("0011223344556677") + b"\x02\x04body", "UnknownSchema"),
    (json.dumps({"body": "x", "published_at": "the day after tomorrow"}).encode(), "BadDate"),
]
MAX_BYTES_FOR_TESTS = 10_000


def avro_article(article_id: str, body: str) -> bytes:
    """A valid raw article in Avro single-object encoding (the contract accepts it too)."""
    return avro.encode({"id": article_id, "title": "Avro input", "body": body, "language": "en"},
                       avro.load_schema("article"))


# The hostile corpus (issue #13): every kind of input a stream or an archive can throw at the
# pipeline, each with the outcome it must get. ``BAD_INPUTS`` above are kinds too (named below);
# the one whose outcome depends on the test's small size limit is left out. The corpus runs with
# the contract's default limits, so that the pathological texts reach spaCy.
ENRICHED = "enriched"
ENGLISH = ("The foreign minister met the ambassador in Paris on Monday to discuss the trade agreement, "
           "officials said after the talks.")


class Hostile(NamedTuple):
    """One kind of hostile input: the Kafka record's key and value (None: a null key or value)."""

    name: str
    value: bytes | None
    expected: str                 # ENRICHED, or the dead letter's error_class
    key: bytes | None = b"hostile"


def _json(**fields) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def _json_raw(text: str) -> bytes:
    """JSON written by hand: escapes and literals (NaN, duplicate keys) that json.dumps would not write."""
    return text.encode("utf-8")


def _truncated_avro() -> bytes:
    return avro_article("avro-cut", ENGLISH)[:-12]


def _avro_huge_length() -> bytes:
    # A known fingerprint, then a union branch (1: string) and a string length of 2**62 bytes.
    whole = avro_article("avro-len", ENGLISH)
    return whole[:10] + b"\x02" + b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f" + b"abc"


_NAMED_BAD = ["malformed_json", "invalid_utf8", "body_is_a_list", "missing_body", "blank_body",
              None, "german", "declared_french", "binary_bytes", "unknown_avro_fingerprint", "unparseable_date"]
HOSTILE = [Hostile(name, data, error) for name, (data, error) in zip(_NAMED_BAD, BAD_INPUTS) if name]
HOSTILE += [
    # Structure
    Hostile("nested_array_10000_levels", b"[" * 10_000 + b"]" * 10_000, "TooDeep"),
    Hostile("nested_field_10000_levels",
            b'{"body": "' + ENGLISH.encode() + b'", "meta": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_000 + b"}",
            "TooDeep"),
    Hostile("truncated_json", _json(body=ENGLISH)[:40], "MalformedJSON"),
    Hostile("utf8_bom_before_json", b"\xef\xbb\xbf" + _json(body=ENGLISH), "MalformedJSON"),
    Hostile("top_level_array", b'["body", "text"]', "WrongType"),
    Hostile("top_level_null", b"null", "WrongType"),
    Hostile("duplicate_json_keys", _json_raw('{"id": "dup-keys", "body": "x", "body": "' + ENGLISH + '"}'), ENRICHED),
    # Encoding
    Hostile("overlong_utf8", b'{"body": "\xc0\xaf ' + ENGLISH.encode() + b'"}', "NotUTF8"),
    Hostile("lone_surrogate_in_body", _json_raw('{"body": "Talks \\ud800 resumed. ' + ENGLISH + '"}'), "NotUTF8"),
    Hostile("lone_surrogate_in_title", _json_raw('{"title": "\\udfff", "body": "' + ENGLISH + '"}'), "NotUTF8"),
    Hostile("lone_surrogate_in_field_name", _json_raw('{"\\ud83d": "x", "body": "' + ENGLISH + '"}'), "NotUTF8"),
    Hostile("nul_and_controls_in_body", _json(id="nul", title="Bell\x07 and NUL\x00", body="Start\x00 " + ENGLISH + "\x1b[31m"),
            ENRICHED),
    Hostile("body_of_control_characters", _json(body="".join(chr(c) for c in range(1, 32)) * 50), "BinaryBody"),
    # Empty and huge
    Hostile("kafka_null_value_and_null_key", None, "EmptyMessage", key=None),
    Hostile("kafka_null_value_with_key", None, "EmptyMessage"),
    Hostile("zero_byte_value", b"", "EmptyMessage"),
    Hostile("empty_string_body", _json(body=""), "EmptyBody"),
    Hostile("unicode_space_body", _json(body="\u2003\u3000\u00a0\n\t"), "EmptyBody"),
    Hostile("ten_megabyte_value", _json(body="word " * 2_000_000), "TooLarge"),
    # Wrong types and numbers
    Hostile("title_is_a_number", _json(title=42, body=ENGLISH), "WrongType"),
    Hostile("id_is_an_object", _json(id={"a": 1}, body=ENGLISH), "WrongType"),
    Hostile("integer_of_5000_digits", _json_raw('{"body": "' + ENGLISH + '", "count": 1' + "0" * 5000 + "}"),
            "MalformedJSON"),
    Hostile("published_at_overflows_to_infinity", _json_raw('{"body": "' + ENGLISH + '", "published_at": 1e400}'),
            "BadDate"),
    Hostile("published_at_10e30_ms", _json(body=ENGLISH, published_at=10 ** 30), "BadDate"),
    Hostile("published_at_nan", _json_raw('{"body": "' + ENGLISH + '", "published_at": NaN}'), "BadDate"),
    Hostile("nan_and_infinity_in_extra_fields",
            _json_raw('{"id": "nan-extra", "body": "' + ENGLISH + '", "score": NaN, "rank": -Infinity}'), ENRICHED),
    # Dates at the ends of the calendar
    Hostile("published_in_year_0001", _json(id="y0001", body=ENGLISH, published_at="0001-01-01T00:00:00Z"), ENRICHED),
    Hostile("published_in_year_9999", _json(id="y9999", body=ENGLISH, published_at="9999-12-31T23:59:59Z"), ENRICHED),
    Hostile("year_0001_east_of_utc", _json(body=ENGLISH, published_at="0001-01-01T00:30:00+01:00"), "BadDate"),
    Hostile("year_9999_west_of_utc", _json(body=ENGLISH, published_at="9999-12-31T23:30:00-01:00"), "BadDate"),
    # Same id twice: both enriched (delivery is at-least-once; consumers de-duplicate on id)
    Hostile("duplicate_id_first", _json(id="dup-id", body=ENGLISH), ENRICHED),
    Hostile("duplicate_id_second", _json(id="dup-id", body="Protesters gathered in Berlin on Tuesday. " + ENGLISH),
            ENRICHED),
    # Content
    Hostile("html_with_script", _json(id="html", title="<b>Breaking</b>",
                                      body="<script>alert(document.cookie)</script><p>" + ENGLISH + "</p>"), ENRICHED),
    Hostile("arabic_rtl_body", _json(body="التقى وزير الخارجية بالسفير في باريس يوم الاثنين لمناقشة اتفاقية "
                                          "التجارة، حسبما قال المسؤولون بعد المحادثات."), "NotEnglish"),
    Hostile("mixed_scripts_and_bidi_controls",
            _json(id="mixed", title="\u202eevil\u202c Talks",
                  body=ENGLISH + " The envoy, Ahmed (أحمد), spoke to Иван in 東京 and ελληνικά. \u200f\u200e"), ENRICHED),
    Hostile("body_of_only_emoji", _json(id="emoji", body="😀🎉🔥👍🏽🇺🇳" * 400), ENRICHED),
    Hostile("one_token_of_100000_chars", _json(id="long-token", body="A" * 100_000, language="en"), ENRICHED),
    Hostile("fifty_thousand_one_word_sentences", _json(id="sentences", body="Yes. " * 50_000, language="en"), "Timeout"),
    # Avro
    Hostile("avro_truncated", _truncated_avro(), "BadAvro"),
    Hostile("avro_header_only", avro_article("avro-head", ENGLISH)[:10], "BadAvro"),
    Hostile("avro_string_length_2_to_62", _avro_huge_length(), "BadAvro"),
]
