"""``newsflow run``: articles.raw -> EnrichArticles -> articles.enriched + Avro files + articles.dlq.

On the embedded default (DirectRunner, which falls back to the FnApiRunner here) the stream is
element-wise: source -> enrich -> delivery, and offsets are committed by the delivery step.
Any Beam runner can be chosen with Beam's own flags (``--runner=FlinkRunner ...``).
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines.config import default_bootstrap
from pipelines.io.kafka_source import KafkaReadConfig, ReadFromKafka, request_stop, reset_stop
from pipelines.io.sinks import DeliverOutputs, DeliveryConfig
from pipelines.pipeline.enrich import EnrichArticles, EnrichConfig, from_kafka_record
from pipelines.pipeline.options import EnrichOptions, KafkaOptions

LOG = logging.getLogger(__name__)


def log_line(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def enrich_config(opts: EnrichOptions) -> EnrichConfig:
    return EnrichConfig(max_article_bytes=opts.max_article_bytes, non_english=opts.non_english,
                        batch_size=opts.batch_size, spacy_model=opts.spacy_model)


def build_pipeline(options: PipelineOptions, log=log_line, read_cfg: KafkaReadConfig | None = None,
                   commit: bool = True) -> beam.Pipeline:
    """The Kafka-to-Kafka graph; importable and testable without running it."""
    kafka = options.view_as(KafkaOptions)
    enrich = options.view_as(EnrichOptions)
    read_cfg = read_cfg or KafkaReadConfig(bootstrap_servers=kafka.bootstrap_servers, group_id=kafka.group_id,
                                           start_from=kafka.start_from, bounded=kafka.until_end)
    delivery = DeliveryConfig(bootstrap_servers=kafka.bootstrap_servers, output_topic=kafka.output_topic,
                              dlq_topic=kafka.dlq_topic, avro_dir=enrich.avro_dir,
                              commit_group=kafka.group_id if commit else None,
                              progress_seconds=kafka.progress_seconds)
    pipeline = beam.Pipeline(options=options)
    outputs = (pipeline
               | "ReadRaw" >> ReadFromKafka([kafka.input_topic], read_cfg)
               | "AsRawInput" >> beam.Map(from_kafka_record)
               | "Enrich" >> EnrichArticles(enrich_config(enrich)))
    _ = outputs | "Deliver" >> DeliverOutputs(delivery, log)
    return pipeline


def install_stop_handlers() -> None:
    """SIGINT/SIGTERM: finish at the next record boundary, flush, commit, exit 0; a second signal kills."""
    def handler(signum, _frame):
        if _stopping[0]:
            log_line("newsflow run: second signal, exiting now (uncommitted articles will be re-read)")
            os._exit(130)
        _stopping[0] = True
        log_line(f"newsflow run: {signal.Signals(signum).name} received, draining and committing ...")
        request_stop()

    _stopping = [False]
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def run(argv: list[str], log=log_line) -> int:
    """Parse flags, check the broker and topics, run until stopped (or the end with --until-end)."""
    from pipelines.io.kafka_client import check_broker
    from pipelines.io.topics import ensure_topics

    options = PipelineOptions(argv)
    kafka = options.view_as(KafkaOptions)
    options.view_as(StandardOptions).streaming = not kafka.until_end
    check_broker(kafka.bootstrap_servers)
    ensure_topics(kafka.bootstrap_servers, [kafka.input_topic, kafka.output_topic, kafka.dlq_topic])
    reset_stop()
    install_stop_handlers()
    started = time.monotonic()
    log(f"newsflow run: {kafka.input_topic} -> {kafka.output_topic} (dead letters: {kafka.dlq_topic}) "
        f"on {kafka.bootstrap_servers}, group {kafka.group_id}"
        + (", until the current end" if kafka.until_end else "; Ctrl-C to stop"))
    result = build_pipeline(options, log).run()
    result.wait_until_finish()
    log(f"newsflow run: stopped after {time.monotonic() - started:.1f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        print(__doc__.strip() + "\n\nusage: newsflow run [--bootstrap-servers HOST:PORT] [--input-topic T] "
              "[--output-topic T] [--dlq-topic T] [--avro-dir DIR] [--group-id G] [--start-from earliest|latest] "
              "[--until-end] [--max-article-bytes N] [--non-english dead-letter|enrich] [--batch-size N] "
              "[--spacy-model NAME] [--progress-seconds S] [Beam options such as --runner]")
        return 0
    if not any(a.startswith("--bootstrap-servers") for a in argv):
        argv += ["--bootstrap-servers", default_bootstrap()]
    return run(argv)
