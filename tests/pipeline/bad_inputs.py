"""Bad raw inputs of every kind the contract names, with the error class each must get."""
import json

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
