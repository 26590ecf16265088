"""Where the poller's new articles go: a Kafka topic, or JSON lines on stdout (``--dry-run``)."""
from __future__ import annotations

from typing import Protocol, TextIO

from pipelines.article import Article, encode_raw
from pipelines.io.topics import RAW_TOPIC


class ArticleSink(Protocol):
    """Where new articles go: Kafka in production, JSON lines for --dry-run."""

    def publish(self, article: Article) -> None: ...

    def close(self) -> None: ...


def publish_article(producer, topic: str, article: Article, timeout: float = 30.0) -> None:
    """Send one article (key = id) with a kafka-python-style producer and wait for the ack."""
    future = producer.send(topic, key=article.id.encode("utf-8"), value=encode_raw(article))
    # Waiting per article makes "published" mean "acknowledged" before the seen-set is written.
    future.get(timeout=timeout)


class KafkaSink:
    """Publishes to a Kafka topic through a kafka-python ``KafkaProducer``."""

    def __init__(self, producer, topic: str = RAW_TOPIC, timeout: float = 30.0):
        self.producer, self.topic, self.timeout = producer, topic, timeout

    def publish(self, article: Article) -> None:
        publish_article(self.producer, self.topic, article, self.timeout)

    def close(self) -> None:
        self.producer.flush(timeout=self.timeout)
        self.producer.close(timeout=self.timeout)


class JsonLinesSink:
    """Writes each article as one JSON line (``--dry-run``); keeps them in ``articles`` too."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self.articles: list[Article] = []

    def publish(self, article: Article) -> None:
        self.articles.append(article)
        if self.stream is not None:
            self.stream.write(encode_raw(article).decode("utf-8") + "\n")
            self.stream.flush()

    def close(self) -> None:
        pass
