"""``newsflow feeds``: poll RSS 2.0 / Atom / RDF feeds and publish each new article once to ``articles.raw``.

The package, one concern per module: ``http`` (the client and its address guard), ``robots``
(robots.txt for article pages), ``extract`` (main text of a page), ``state`` (seen-set and
per-feed state in SQLite), ``sinks`` (Kafka or JSON lines), ``poller`` (one pass over the
feeds) and ``cli`` (flags and the launcher). ``newsflow feeds`` calls ``main`` here.
"""
from pipelines.io.feeds.cli import main

__all__ = ["main"]
