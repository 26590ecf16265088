"""``newsflow run``: articles.raw -> EnrichArticles -> articles.enriched + Avro files + articles.dlq.

On the embedded default (DirectRunner, which falls back to the FnApiRunner here) the stream is
element-wise: source -> enrich -> delivery, and offsets are committed by the delivery step.
Any Beam runner can be chosen with Beam's own flags (``--runner=FlinkRunner ...``).
"""
from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines.io.delivery import DELIVERED_DEAD_PREFIX, DELIVERED_ENRICHED, DeliverOutputs, DeliveryConfig
from pipelines.io.kafka_source import KafkaReadConfig, ReadFromKafka, request_stop, reset_stop
from pipelines.pipeline import launch
from pipelines.pipeline.enrich import NAMESPACE, EnrichArticles, EnrichConfig, from_kafka_record
from pipelines.pipeline.options import EnrichOptions, KafkaOptions, run_help_parser
from pipelines.signals import StopOnSignals

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
                              dlq_topic=kafka.dlq_topic, avro_dir=None if enrich.no_avro else enrich.avro_dir,
                              commit_group=kafka.group_id if commit else None,
                              progress_seconds=kafka.progress_seconds)
    pipeline = beam.Pipeline(options=options)
    outputs = (pipeline
               | "ReadRaw" >> ReadFromKafka([kafka.input_topic], read_cfg)
               | "AsRawInput" >> beam.Map(from_kafka_record)
               | "Enrich" >> EnrichArticles(enrich_config(enrich)))
    _ = outputs | "Deliver" >> DeliverOutputs(delivery, log)
    return pipeline


def delivered_counts(result) -> tuple[int, Counter] | None:
    """Enriched and dead-lettered (by reason) records delivered, from the run's metrics; None if unavailable."""
    from apache_beam.metrics.metric import MetricsFilter

    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    except Exception as exc:  # pylint: disable=broad-except
        # Not every runner reports metrics; the run itself succeeded.
        LOG.info("no metrics from the runner: %s", exc)
        return None
    enriched, dead = 0, Counter()
    for counter in counters:
        name = counter.key.metric.name
        value = counter.committed if counter.committed is not None else counter.attempted
        if name == DELIVERED_ENRICHED:
            enriched += value
        elif name.startswith(DELIVERED_DEAD_PREFIX):
            dead[name[len(DELIVERED_DEAD_PREFIX):]] += value
    return enriched, dead


def _drain(name: str) -> None:
    log_line(f"newsflow run: {name} received, draining and committing ...")
    request_stop()


def _exit_now() -> None:
    log_line("newsflow run: second signal, exiting now (uncommitted articles will be re-read)")
    os._exit(130)


def run(argv: list[str], log=log_line) -> int:
    """Check flags, broker and topics, run until stopped (or the end with --until-end), give the account."""
    from pipelines.io.kafka_client import check_broker
    from pipelines.io.topics import ensure_topics

    level, argv = launch.split_log_flags(argv)
    launch.configure_logging(level)
    launch.check_beam_flags(argv)
    options = PipelineOptions(launch.harness_log_flags(argv, level))
    kafka = options.view_as(KafkaOptions)
    enrich = options.view_as(EnrichOptions)
    options.view_as(StandardOptions).streaming = not kafka.until_end
    check_broker(kafka.bootstrap_servers)
    ensure_topics(kafka.bootstrap_servers, [kafka.input_topic, kafka.output_topic, kafka.dlq_topic])
    reset_stop()
    started = time.monotonic()
    avro = "no Avro files" if enrich.no_avro else f"Avro under {enrich.avro_dir}"
    log(f"newsflow run: {kafka.input_topic} -> {kafka.output_topic} + {avro} (dead letters: {kafka.dlq_topic}) "
        f"on {kafka.bootstrap_servers}, group {kafka.group_id}"
        + (", until the current end" if kafka.until_end else "; Ctrl-C to stop"))
    # Ctrl-C / SIGTERM: finish at the next record boundary, flush, commit, exit 0; a second signal kills.
    with launch.private_tempdir("newsflow-run-"), StopOnSignals(_drain, _exit_now):
        result = build_pipeline(options, log).run()
        result.wait_until_finish()
    counts = delivered_counts(result)
    wall = time.monotonic() - started
    if counts is None:
        log(f"newsflow run: stopped after {wall:.1f}s (this runner reports no counts)")
    else:
        log(f"newsflow run: {launch.account_line(*counts)}; stopped after {wall:.1f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        run_help_parser().print_help()
        return 0
    return run(argv)
