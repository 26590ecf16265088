"""The feed poller's local state: seen-set and per-feed HTTP state, in one SQLite file.

What survives a restart: the hashes of every GUID and canonical URL already published (so
nothing is published twice), each feed's ETag / Last-Modified (so the first poll after a
restart can still be a conditional GET) and its failure count and next due time (so a feed
that was failing stays backed off).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

STATE_FILE = "feeds.sqlite3"
LOCK_FILE = "feeds.lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    key_hash TEXT PRIMARY KEY,
    article_id TEXT,
    feed_url TEXT,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_due REAL NOT NULL DEFAULT 0,
    last_status TEXT
);
"""


class StateLocked(RuntimeError):
    """Another poller holds the state directory; two pollers on one seen-set would double-publish."""


def seen_key(kind: str, value: str, scope: str = "") -> str:
    """Hash of one identity of an entry: ``kind`` is "guid" (scoped by feed URL) or "url"."""
    return hashlib.sha256(f"{kind}\x00{scope}\x00{value}".encode("utf-8")).hexdigest()


@dataclass
class FeedHttpState:
    """What the poller remembers about one feed between polls."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    next_due: float = 0.0
    last_status: str | None = None


class FeedState:
    """The SQLite store under a state directory, locked for one poller at a time."""

    def __init__(self, state_dir: str | os.PathLike):
        self.state_dir = Path(state_dir)
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    def open(self) -> "FeedState":
        """Create the directory and tables, and take the exclusive lock (raises ``StateLocked``)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise StateLocked(f"another newsflow feeds process is using {self.state_dir}") from exc
        self._lock_fd = fd
        self._conn = sqlite3.connect(self.state_dir / STATE_FILE)
        self._conn.executescript(_SCHEMA)
        self._conn.commit()
        return self

    def close(self) -> None:
        """Commit, close the database and release the lock."""
        if self._conn is not None:
            self._conn.commit()
            self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "FeedState":
        return self.open()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("FeedState is not open")
        return self._conn

    # --- seen-set -------------------------------------------------------------------------

    def any_seen(self, keys: Iterable[str], now: float) -> bool:
        """True when any of ``keys`` was published before; refreshes ``last_seen`` of those found."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return False
        marks = ",".join("?" * len(keys))
        found = self.conn.execute(f"SELECT key_hash FROM seen WHERE key_hash IN ({marks})", keys).fetchall()
        if found:
            # Refreshing last_seen keeps entries that are still listed in a feed out of pruning.
            self.conn.executemany("UPDATE seen SET last_seen = ? WHERE key_hash = ?",
                                  [(now, row[0]) for row in found])
            self.conn.commit()
        return bool(found)

    def mark_seen(self, keys: Iterable[str], article_id: str | None, feed_url: str, now: float) -> None:
        """Record ``keys`` as published (committed at once: publish-then-mark is at-least-once)."""
        self.conn.executemany(
            "INSERT INTO seen (key_hash, article_id, feed_url, first_seen, last_seen) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(key_hash) DO UPDATE SET last_seen = excluded.last_seen",
            [(key, article_id, feed_url, now, now) for key in dict.fromkeys(keys)])
        self.conn.commit()

    def seen_count(self) -> int:
        """Number of keys in the seen-set."""
        return self.conn.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def prune(self, older_than: float) -> int:
        """Forget keys not met in any feed since ``older_than`` (epoch seconds); returns how many."""
        cursor = self.conn.execute("DELETE FROM seen WHERE last_seen < ?", (older_than,))
        self.conn.commit()
        return cursor.rowcount

    # --- per-feed HTTP state ----------------------------------------------------------------

    def feed(self, url: str) -> FeedHttpState:
        """The stored state of ``url`` (a fresh one when the feed is new)."""
        row = self.conn.execute(
            "SELECT etag, last_modified, failures, next_due, last_status FROM feeds WHERE url = ?",
            (url,)).fetchone()
        if row is None:
            return FeedHttpState(url)
        return FeedHttpState(url, row[0], row[1], row[2], row[3], row[4])

    def save_feed(self, feed: FeedHttpState) -> None:
        """Store ``feed``'s validators, failure count and next due time."""
        self.conn.execute(
            "INSERT INTO feeds (url, etag, last_modified, failures, next_due, last_status) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified, failures = excluded.failures, "
            "next_due = excluded.next_due, last_status = excluded.last_status",
            (feed.url, feed.etag, feed.last_modified, feed.failures, feed.next_due, feed.last_status))
        self.conn.commit()

    def reset_backoff(self, urls: Iterable[str]) -> list[str]:
        """Forget the failures and back-off of ``urls`` (validators kept); returns those that were backing off."""
        urls = list(dict.fromkeys(urls))
        if not urls:
            return []
        marks = ",".join("?" * len(urls))
        cleared = [row[0] for row in self.conn.execute(
            f"SELECT url FROM feeds WHERE url IN ({marks}) AND (failures > 0 OR next_due > 0)", urls)]
        self.conn.execute(f"UPDATE feeds SET failures = 0, next_due = 0 WHERE url IN ({marks})", urls)
        self.conn.commit()
        return cleared
