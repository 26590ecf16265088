"""Where the poller's new articles go: a Kafka topic, or JSON lines on stdout (``--dry-run``)."""
from __future__ import annotations

from typing import Callable, Protocol, TextIO

from pipelines.article import Article, encode_raw
from pipelines.io.retry import BrokerGone, BrokerOutage, retry
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
    """Publishes to a Kafka topic through a kafka-python ``KafkaProducer``.

    With an ``outage``, a broker that goes away is waited for (``pipelines.io.retry``): the same
    send is awaited again with back-off (sent anew only if it failed), and ``on_gone`` is called
    once the broker has been away too long.
    """

    def __init__(self, producer, topic: str = RAW_TOPIC, timeout: float = 30.0,
                 outage: BrokerOutage | None = None, on_gone: Callable[[str], None] | None = None):
        self.producer, self.topic, self.timeout = producer, topic, timeout
        self.outage, self.on_gone = outage, on_gone

    def publish(self, article: Article) -> None:
        if self.outage is None:
            publish_article(self.producer, self.topic, article, self.timeout)
            return
        sent = []

        def acknowledged():
            if not sent or sent[-1].failed():
                sent.append(self.producer.send(self.topic, key=article.id.encode("utf-8"), value=encode_raw(article)))
            return sent[-1].get(timeout=self.timeout)

        try:
            retry(acknowledged, self.outage)
        except BrokerGone as exc:
            if self.on_gone is None:
                raise
            self.on_gone(str(exc))

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
