"""``newsflow run``: articles.raw -> EnrichArticles -> articles.enriched + Avro files + articles.dlq.

On the embedded default (DirectRunner, which falls back to the FnApiRunner here) the stream is
element-wise: source -> enrich -> delivery, and offsets are committed by the delivery step.
Any Beam runner can be chosen with Beam's own flags (``--runner=FlinkRunner ...``).

Scale: ``--worker I/N`` gives this run its static share of the partitions (``kafka_source.owns``);
on its machine it starts one process per core, each with a share of that (``workers``); and it
re-lists the topic every ``--relist-seconds``, draining and restarting its pipeline when a
partition of its share appears.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections import Counter

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines import health
from pipelines.io.delivery import DELIVERED_DEAD_PREFIX, DELIVERED_ENRICHED, DeliverOutputs, DeliveryConfig
from pipelines.io.kafka_source import KafkaReadConfig, ReadFromKafka, owns, parse_worker, request_stop, reset_stop
from pipelines.pipeline import launch
from pipelines.pipeline.enrich import NAMESPACE, EnrichArticles, EnrichConfig, from_kafka_record
from pipelines.pipeline.options import EnrichOptions, KafkaOptions, run_help_parser
from pipelines.pipeline.workers import Copies, default_processes
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
                                           start_from=kafka.start_from, bounded=kafka.until_end,
                                           commit_start=commit, worker=parse_worker(kafka.worker))
    delivery = DeliveryConfig(bootstrap_servers=kafka.bootstrap_servers, output_topic=kafka.output_topic,
                              dlq_topic=kafka.dlq_topic, avro_dir=None if enrich.no_avro else enrich.avro_dir,
                              commit_group=kafka.group_id if commit else None,
                              progress_seconds=kafka.progress_seconds,
                              health=health.HealthFile.of(kafka.health_file, kafka.worker))
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


class _Stop:
    """Why the current pipeline is being stopped: the user (end the run) or a re-listing (start again)."""

    def __init__(self):
        self.by_user = threading.Event()

    def drain(self, name: str) -> None:
        log_line(f"newsflow run: {name} received, draining and committing ...")
        self.by_user.set()
        request_stop()


def _exit_now() -> None:
    log_line("newsflow run: second signal, exiting now (uncommitted articles will be re-read)")
    os._exit(130)


def owned_partitions(bootstrap: str, topic: str, worker: tuple[int, int]) -> set[int]:
    from pipelines.io.kafka_client import topic_partitions

    return {p for p in topic_partitions(bootstrap, topic) if owns(p, worker)}


def _watch_partitions(bootstrap: str, topic: str, worker, known: set[int], every: float,
                      done: threading.Event) -> None:
    """Drain the running pipeline when partitions of this worker appear, so the next one reads them too.

    A running pipeline's partition list is fixed when it starts (the embedded runner cannot feed
    new elements to a running splittable DoFn behind a re-listing step without a GroupByKey,
    which it never fires); draining commits what was delivered, and the restart resumes there.
    """
    while not done.wait(every):
        try:
            new = owned_partitions(bootstrap, topic, worker) - known
        except Exception as exc:  # noqa: BLE001 - the broker may be briefly away; look again later
            LOG.info("re-listing partitions failed: %s", exc)
            continue
        if new:
            LOG.info("new partitions %s: restarting the pipeline to read them", sorted(new))
            request_stop()
            return


def _run_in_process(options, kafka, worker, log, stop: _Stop) -> tuple[int, Counter] | None:
    """Run pipelines until stopped (or the end): one more each time the topic gains partitions of ours."""
    enriched, dead, counted = 0, Counter(), True
    while not stop.by_user.is_set():
        known = owned_partitions(kafka.bootstrap_servers, kafka.input_topic, worker)
        if not known:
            # Nothing of ours yet (more workers than partitions): wait for partitions to be added.
            if kafka.until_end or kafka.relist_seconds <= 0:
                break
            health.report(kafka.health_file, kafka.worker, health.WAITING)
            stop.by_user.wait(kafka.relist_seconds)
            continue
        reset_stop()
        done = threading.Event()
        if not kafka.until_end and kafka.relist_seconds > 0:
            threading.Thread(target=_watch_partitions, daemon=True, name="relist",
                             args=(kafka.bootstrap_servers, kafka.input_topic, worker, known,
                                   kafka.relist_seconds, done)).start()
        try:
            result = build_pipeline(options, log).run()
            result.wait_until_finish()
        finally:
            done.set()
        counts = delivered_counts(result)
        if counts is None:
            counted = False
        else:
            enriched += counts[0]
            dead.update(counts[1])
        if kafka.until_end:
            break
    return (enriched, dead) if counted else None


def _run_copies(argv, worker, processes, log, stop: _Stop) -> tuple[tuple[int, Counter] | None, int]:
    copies = Copies(argv, worker, processes, log)

    def relay(name: str) -> None:
        stop.drain(name)
        copies.stop()

    def kill_all() -> None:
        copies.stop(signal.SIGKILL)
        _exit_now()

    with StopOnSignals(relay, kill_all):
        codes = copies.wait()
    failed = [code for code in codes if code != 0]
    return copies.account(), (failed[0] if failed else 0)


def run(argv: list[str], log=log_line) -> int:
    """Check flags, broker and topics, run until stopped (or the end with --until-end), give the account."""
    from pipelines.io.kafka_client import check_broker
    from pipelines.io.topics import ensure_topics

    level, beam_argv = launch.split_log_flags(argv)
    launch.configure_logging(level)
    launch.check_beam_flags(beam_argv)
    options = PipelineOptions(launch.harness_log_flags(beam_argv, level))
    kafka = options.view_as(KafkaOptions)
    enrich = options.view_as(EnrichOptions)
    worker = parse_worker(kafka.worker)
    if kafka.processes < 0:
        raise ValueError(f"--processes must be 0 (one per core) or more, not {kafka.processes}")
    options.view_as(StandardOptions).streaming = not kafka.until_end
    health.report(kafka.health_file, kafka.worker, health.STARTING)
    check_broker(kafka.bootstrap_servers)
    ensure_topics(kafka.bootstrap_servers, [kafka.input_topic, kafka.output_topic, kafka.dlq_topic])
    started = time.monotonic()
    processes = 1 if kafka.processes == 1 else default_processes(
        kafka.processes, len(owned_partitions(kafka.bootstrap_servers, kafka.input_topic, worker)))
    avro = "no Avro files" if enrich.no_avro else f"Avro under {enrich.avro_dir}"
    share = "" if worker == (0, 1) else f", worker {worker[0]}/{worker[1]}"
    share += f", {processes} processes" if processes > 1 else ""
    log(f"newsflow run: {kafka.input_topic} -> {kafka.output_topic} + {avro} (dead letters: {kafka.dlq_topic}) "
        f"on {kafka.bootstrap_servers}, group {kafka.group_id}{share}"
        + (", until the current end" if kafka.until_end else "; Ctrl-C to stop"))
    stop = _Stop()
    code = 0
    if processes > 1:
        health.report(kafka.health_file, kafka.worker, health.SUPERVISING, processes=processes)
        counts, code = _run_copies(argv, worker, processes, log, stop)
    else:
        # Ctrl-C / SIGTERM: finish at the next record boundary, flush, commit, exit 0; a second signal kills.
        with launch.private_tempdir("newsflow-run-"), StopOnSignals(stop.drain, _exit_now):
            counts = _run_in_process(options, kafka, worker, log, stop)
    wall = time.monotonic() - started
    health.report(kafka.health_file, kafka.worker, health.STOPPED)
    if counts is None:
        log(f"newsflow run: stopped after {wall:.1f}s (this runner reports no counts)")
    else:
        log(f"newsflow run: {launch.account_line(*counts)}; stopped after {wall:.1f}s")
    if code:
        log(f"newsflow run: a worker process failed (exit status {code}); its partitions resume from their commits")
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        run_help_parser().print_help()
        return 0
    return run(argv)
