"""``newsflow run``: articles.raw -> EnrichArticles -> articles.enriched + Avro files + articles.dlq.

On the embedded default (DirectRunner, which falls back to the FnApiRunner here) the stream is
element-wise: source -> enrich -> delivery, and offsets are committed by the delivery step.
Any Beam runner can be chosen with Beam's own flags (``--runner=FlinkRunner ...``).

Stopping: on the embedded runner the SDK harness runs in this process, so Ctrl-C / SIGTERM set
the readers' in-process flag and the pipeline drains by itself. On other runners (Prism, Flink,
Dataflow) the workers are in other processes, which no flag of ours reaches, and the job is
stopped through its ``PipelineResult`` (``stop_job``); only where such a runner runs its
workers in this process (a LOOPBACK environment) does the flag drain it. The account is read
from the runner's metrics either way.

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
from pipelines.config import memtrace_settings
from pipelines.io.delivery import DELIVERED_DEAD_PREFIX, DELIVERED_ENRICHED, DeliverOutputs, DeliveryConfig
from pipelines.io.kafka_source import KafkaReadConfig, ReadFromKafka, owns, parse_worker, request_stop, reset_stop
from pipelines.io.retry import BrokerOutage, BrokerWatch, give_up
from pipelines.pipeline import launch
from pipelines.pipeline.enrich import EnrichArticles, EnrichConfig, from_kafka_record
from pipelines.pipeline.options import EnrichOptions, KafkaOptions, check_enrich_flags, run_help_parser, \
    story_config
from pipelines.pipeline.stories import AssignStoriesFn, StreamStoriesConfig, ensure_stories_topic
from pipelines.pipeline.workers import Copies, default_processes
from pipelines.signals import StopOnSignals, children_ignore_sigint

LOG = logging.getLogger(__name__)
CANCEL_WAIT_SECONDS = 15


def log_line(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def enrich_config(opts: EnrichOptions) -> EnrichConfig:
    return EnrichConfig(max_article_bytes=opts.max_article_bytes, non_english=opts.non_english,
                        batch_size=opts.batch_size, spacy_model=opts.spacy_model,
                        record_timeout_seconds=opts.record_timeout_seconds)


def build_pipeline(options: PipelineOptions, log=log_line, read_cfg: KafkaReadConfig | None = None,
                   commit: bool = True) -> beam.Pipeline:
    """The Kafka-to-Kafka graph; importable and testable without running it."""
    kafka = options.view_as(KafkaOptions)
    enrich = options.view_as(EnrichOptions)
    read_cfg = read_cfg or KafkaReadConfig(bootstrap_servers=kafka.bootstrap_servers, group_id=kafka.group_id,
                                           start_from=kafka.start_from, bounded=kafka.until_end,
                                           commit_start=commit, worker=parse_worker(kafka.worker),
                                           max_records_per_bundle=kafka.max_poll_records)
    delivery = DeliveryConfig(bootstrap_servers=kafka.bootstrap_servers, output_topic=kafka.output_topic,
                              dlq_topic=kafka.dlq_topic,
                              avro_dir=None if enrich.no_avro else launch.output_location(enrich.avro_dir),
                              commit_group=kafka.group_id if commit else None,
                              progress_seconds=kafka.progress_seconds,
                              broker_timeout_seconds=kafka.broker_timeout_seconds,
                              schema_registry=kafka.schema_registry,
                              health=health.HealthFile.of(kafka.health_file, kafka.worker),
                              transactional_id=transactional_id(kafka) if kafka.exactly_once and commit else None)
    pipeline = beam.Pipeline(options=options)
    outputs = (pipeline
               | "ReadRaw" >> ReadFromKafka([kafka.input_topic], read_cfg)
               | "AsRawInput" >> beam.Map(from_kafka_record)
               | "Enrich" >> EnrichArticles(enrich_config(enrich)))
    if not enrich.no_stories:
        stories = StreamStoriesConfig(kafka.bootstrap_servers, kafka.stories_topic,
                                      story_config(enrich),
                                      broker_timeout_seconds=kafka.broker_timeout_seconds)
        outputs = dict(outputs, enriched=outputs["enriched"] | "AssignStories" >> beam.ParDo(AssignStoriesFn(stories)))
    _ = outputs | "Deliver" >> DeliverOutputs(delivery, log)
    return pipeline


def transactional_id(kafka: KafkaOptions) -> str:
    """Stable per worker share: a restarted process takes over (and fences) its predecessor's transactions."""
    return f"newsflow-{kafka.group_id}-{kafka.input_topic}-{kafka.worker.replace('/', 'of')}"


def delivered_counts(result) -> tuple[int, Counter] | None:
    """Enriched and dead-lettered (by reason) records delivered, from the run's metrics; None if unavailable."""
    values = launch.counter_values(result)
    if values is None:
        return None
    dead = Counter({name[len(DELIVERED_DEAD_PREFIX):]: value for name, value in values.items()
                    if name.startswith(DELIVERED_DEAD_PREFIX)})
    return values[DELIVERED_ENRICHED], dead


class _Stop:
    """Stop requests, carried out the runner's way: by the user (end the run) or by a re-listing (start again).

    Where the SDK workers run in this process (the embedded runner; a LOOPBACK environment), the
    readers see the in-process flag (``request_stop``), finish their ranges at the next record
    boundary, and the pipeline drains by itself. Elsewhere the waiting loop (``_wait_for_job``)
    stops the job through its PipelineResult.
    """

    def __init__(self, embedded: bool):
        self.embedded = embedded
        self.workers_here = embedded         # known for each pipeline once it is built
        self.by_user = threading.Event()     # end the run
        self.pipeline = threading.Event()    # end the current pipeline (the user, or new partitions)
        self.now = threading.Event()         # a second signal: stop waiting for the job to end

    def first_signal(self, name: str) -> None:
        how = "draining and committing" if self.workers_here else \
            "stopping the job through the runner (drain, else cancel)"
        log_line(f"newsflow run: {name} received, {how} ...")
        self.by_user.set()
        self.end_pipeline()

    def second_signal(self) -> None:
        if self.embedded:
            # The job runs in this process and ends with it.
            log_line("newsflow run: second signal, exiting now (uncommitted articles will be re-read)")
            os._exit(130)
        # Elsewhere the job would outlive this process: cancel it before going (``_wait_for_job``).
        log_line("newsflow run: second signal, cancelling the job now (uncommitted articles will be re-read)")
        self.now.set()
        self.end_pipeline()

    def end_pipeline(self) -> None:
        self.pipeline.set()
        if self.workers_here:
            request_stop()

    def next_pipeline(self) -> None:
        self.pipeline.clear()
        reset_stop()
        if self.by_user.is_set():
            self.end_pipeline()  # the user's stop, even one that came just now, holds for every pipeline


def _drain(result) -> bool:
    """Ask the runner to drain the job (finish the work in flight, read no more); False where it cannot.

    Beam's Python ``PipelineResult`` offers ``cancel()`` only. The portable Job API (served by
    Prism, and by Beam's job servers for Flink and Spark) also defines ``Drain``, reached
    through the result's job service; Prism 2.77 answers it UNIMPLEMENTED. Dataflow drains
    through its own API (``gcloud dataflow jobs drain``) and its result has no job service.
    Where there is no drain, the job is cancelled.
    """
    service, job_id = getattr(result, "_job_service", None), getattr(result, "_job_id", None)
    if service is None or job_id is None:
        return False
    from apache_beam.portability.api import beam_job_api_pb2

    try:
        service.Drain(beam_job_api_pb2.DrainJobRequest(job_id=job_id), timeout=30)
    except Exception as exc:  # noqa: BLE001 - grpc.RpcError UNIMPLEMENTED, or an in-process service without it
        LOG.info("the runner does not drain jobs (%s); cancelling instead", exc)
        return False
    return True


def stop_job(result, log) -> str:
    """Stop a job running on a runner of its own: drain it if the runner offers that, else cancel it.

    Cancelling loses nothing: an offset is committed only once every record below it is
    delivered (``pipelines.io.offsets``), so the records of a bundle cut short are read again
    by the next run, with the same ids (at-least-once), and an Avro file cut short stays under
    its temporary dot-name, which readers skip. What a drain adds is fewer re-deliveries. The
    account counts the bundles the runner saw complete (committed metrics): a bundle that
    delivered and committed in the last milliseconds before the cancel, but whose completion
    the runner never heard of, is delivered and not counted.
    """
    return "draining" if _drain(result) else _cancel(result, log)


def _cancel(result, log) -> str:
    """Cancel the job; "cancelled", or "unconfirmed" (said on the console) when the runner could not be told."""
    try:
        result.cancel()
    except Exception as exc:  # noqa: BLE001 - e.g. the runner's job service is gone: say so, do not crash
        log(f"newsflow run: could not cancel the job ({' '.join(str(exc).split())[:200]}); check the runner")
        return "unconfirmed"
    return "cancelled"


def _state_name(result) -> str:
    """The job's state as Beam names it (``PipelineState``: "RUNNING", "CANCELLED", ...)."""
    try:
        return str(result.state)
    except Exception as exc:  # noqa: BLE001 - the job service may be gone already
        LOG.info("no job state from the runner: %s", exc)
        return "UNKNOWN"


def _wait_for_job(result, stop: _Stop, log) -> None:
    """Wait for a pipeline on a runner of its own, stopping it when asked.

    ``wait_until_finish`` blocks (in gRPC, on portable runners), so it runs in a thread while
    this one watches for stop requests. Where the runner runs its SDK workers in this process (a
    LOOPBACK environment, Prism's default) the readers see the in-process flag and the job
    drains by itself; otherwise it is stopped through its PipelineResult (``stop_job``). A
    second signal cancels even a drain, and waits at most ``CANCEL_WAIT_SECONDS`` for the
    runner to confirm the cancel, saying so if it does not. A job that ends in a stopped state
    after a stop request is not an error.
    """
    errors = []

    def wait():
        try:
            result.wait_until_finish()
        except Exception as exc:  # noqa: BLE001 - re-raised below unless the job was stopped on purpose
            errors.append(exc)

    waiter = threading.Thread(target=wait, daemon=True, name="wait-until-finish")
    waiter.start()
    stopping = None  # "draining" or "cancelled", once asked to stop
    while waiter.is_alive():
        waiter.join(0.5)
        if stop.pipeline.is_set() and stopping is None:
            if stop.workers_here:
                stopping = "draining"  # by the in-process flag (``_Stop.end_pipeline``)
            else:
                stopping = stop_job(result, log)
            LOG.info("job %s", stopping)
        if stop.now.is_set():
            if stopping == "draining":
                stopping = _cancel(result, log)
            waiter.join(CANCEL_WAIT_SECONDS)
            if waiter.is_alive():
                log(f"newsflow run: the runner has not confirmed the cancel within {CANCEL_WAIT_SECONDS}s; "
                    f"the job is {_state_name(result)}")
            return
    if errors and stopping is None:
        raise errors[0]
    if errors:
        # Asked to stop: a cancelled job "fails" in Beam's eyes; that is what was asked for.
        LOG.info("job ended after a stop request (%s): %s", _state_name(result), errors[0])


def owned_partitions(bootstrap: str, topic: str, worker: tuple[int, int]) -> set[int]:
    from pipelines.io.kafka_client import topic_partitions

    return {p for p in topic_partitions(bootstrap, topic) if owns(p, worker)}


def _watch_partitions(bootstrap: str, topic: str, worker, known: set[int], every: float,
                      done: threading.Event, stop: _Stop) -> None:
    """Stop the running pipeline when partitions of this worker appear, so the next one reads them too.

    A running pipeline's partition list is fixed when it starts (the embedded runner cannot feed
    new elements to a running splittable DoFn behind a re-listing step without a GroupByKey,
    which it never fires); stopping it (``_Stop``) leaves what was delivered committed, and the
    restart resumes there.
    """
    while not done.wait(every):
        try:
            new = owned_partitions(bootstrap, topic, worker) - known
        except Exception as exc:  # noqa: BLE001 - the broker may be briefly away; look again later
            LOG.info("re-listing partitions failed: %s", exc)
            continue
        if new:
            LOG.info("new partitions %s: restarting the pipeline to read them", sorted(new))
            stop.end_pipeline()
            return


def _run_in_process(options, kafka, worker, log, stop: _Stop, signals: StopOnSignals) -> tuple[int, Counter] | None:
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
        stop.next_pipeline()
        done = threading.Event()
        if not kafka.until_end and kafka.relist_seconds > 0:
            threading.Thread(target=_watch_partitions, daemon=True, name="relist",
                             args=(kafka.bootstrap_servers, kafka.input_topic, worker, known,
                                   kafka.relist_seconds, done, stop)).start()
        try:
            pipeline = build_pipeline(options, log)
            stop.workers_here = launch.workers_in_process(pipeline)
            if stop.pipeline.is_set():
                stop.end_pipeline()  # asked before it was known where the workers would be
            # The embedded runner returns when the pipeline has ended; others once the job is submitted.
            with children_ignore_sigint(not stop.embedded):
                result = pipeline.run()
            signals.reclaim()
            if stop.embedded:
                result.wait_until_finish()
            else:
                _wait_for_job(result, stop, log)
        finally:
            done.set()
        counts = delivered_counts(result)
        if counts is None:
            counted = False
        else:
            enriched += counts[0]
            dead.update(counts[1])
        if kafka.until_end or stop.now.is_set():
            break
    return (enriched, dead) if counted else None


def _run_copies(argv, worker, processes, log, stop: _Stop) -> tuple[tuple[int, Counter] | None, int]:
    copies = Copies(argv, worker, processes, log)

    def relay(name: str) -> None:
        stop.first_signal(name)
        copies.stop()

    def relay_second() -> None:
        if stop.embedded:
            copies.stop(signal.SIGKILL)  # their jobs die with them
        else:
            copies.stop()  # a copy's own second signal: it cancels its job, then exits
        stop.second_signal()

    with StopOnSignals(relay, relay_second):
        codes = copies.wait()
    failed = [code for code in codes if code != 0]
    return copies.account(), (failed[0] if failed else 0)


def run(argv: list[str], log=log_line) -> int:
    """Check flags, broker and topics, run until stopped (or the end with --until-end), give the account."""
    from pipelines.config import apply_kafka_security
    from pipelines.io.kafka_client import check_broker
    from pipelines.io.topics import ensure_topics

    level, beam_argv = launch.split_log_flags(argv)
    launch.configure_logging(level)
    launch.check_beam_flags(beam_argv)
    options = PipelineOptions(launch.harness_log_flags(beam_argv, level))
    kafka = options.view_as(KafkaOptions)
    enrich = options.view_as(EnrichOptions)
    apply_kafka_security(kafka)  # every client of the run, and of its workers in this process
    worker = parse_worker(kafka.worker)
    if kafka.exactly_once and not launch.embedded_runner(options):
        # Elsewhere several SDK workers may deliver one share: with one transactional id they would
        # fence each other, and a partition's records could be delivered by two processes.
        raise ValueError("--exactly-once needs the embedded runner (one process delivers each worker share); "
                         "drop --runner, or run without --exactly-once")
    if kafka.max_poll_records < 1:
        raise ValueError(f"--max-poll-records must be 1 or more, not {kafka.max_poll_records}")
    if kafka.processes < 0:
        raise ValueError(f"--processes must be 0 (one per core) or more, not {kafka.processes}")
    check_enrich_flags(enrich)
    if not enrich.no_stories:
        story_config(enrich)  # a story flag out of range stops the run here, not in every worker
    options.view_as(StandardOptions).streaming = not kafka.until_end
    launch.bound_runner_metrics()  # the embedded runner's metrics would grow with every bundle
    health.report(kafka.health_file, kafka.worker, health.STARTING)
    check_broker(kafka.bootstrap_servers)
    if kafka.schema_registry:
        from pipelines.schema_registry import check_registry
        check_registry(kafka.schema_registry)
    ensure_topics(kafka.bootstrap_servers, [kafka.input_topic, kafka.output_topic, kafka.dlq_topic])
    if not enrich.no_stories:
        ensure_stories_topic(kafka.bootstrap_servers, kafka.stories_topic)
    started = time.monotonic()
    embedded = launch.embedded_runner(options)
    # One process per core is for the embedded runner, which uses one core per process; another
    # runner spreads the work itself (and K copies would submit K jobs), unless asked for K.
    processes = 1 if kafka.processes == 1 or (kafka.processes == 0 and not embedded) else default_processes(
        kafka.processes, len(owned_partitions(kafka.bootstrap_servers, kafka.input_topic, worker)))
    avro = "no Avro files" if enrich.no_avro else f"Avro under {enrich.avro_dir}"
    share = "" if worker == (0, 1) else f", worker {worker[0]}/{worker[1]}"
    share += f", {processes} processes" if processes > 1 else ""
    share += ", exactly-once" if kafka.exactly_once else ""
    log(f"newsflow run: {kafka.input_topic} -> {kafka.output_topic} + {avro} (dead letters: {kafka.dlq_topic}) "
        f"on {kafka.bootstrap_servers}, group {kafka.group_id}{share}"
        + (", until the current end" if kafka.until_end else "; Ctrl-C to stop"))
    stop = _Stop(embedded)
    code = 0
    if processes > 1:
        health.report(kafka.health_file, kafka.worker, health.SUPERVISING, processes=processes)
        counts, code = _run_copies(argv, worker, processes, log, stop)
    else:
        trace = memtrace_settings()  # a debugging aid, off by default (pipelines.pipeline.memtrace)
        if trace:
            from pipelines.pipeline import memtrace
            memtrace.start(*trace)
        # Ctrl-C / SIGTERM: drain (or cancel, see _Stop), flush, commit, exit 0; a second signal stops now.
        # Once the job has ended, a late signal must not cut short the exit, where Beam stops the
        # job server it started (Prism): it would be left running.
        # A broker that goes away is waited for (the clients retry); the watch says so, and ends the
        # process once it is away too long: nothing is committed past what was delivered.
        outage = BrokerOutage(kafka.bootstrap_servers, kafka.broker_timeout_seconds,
                              lambda line: log(f"newsflow run: {line}"))
        with launch.private_tempdir("newsflow-run-"), \
                BrokerWatch(outage, on_gone=lambda message: give_up(message, "newsflow run: ")), \
                StopOnSignals(stop.first_signal, stop.second_signal, then_ignore=not embedded) as signals:
            counts = _run_in_process(options, kafka, worker, log, stop, signals)
    wall = time.monotonic() - started
    health.report(kafka.health_file, kafka.worker, health.STOPPED)
    if counts is None:
        log(f"newsflow run: stopped after {wall:.1f}s (this runner reports no counts)")
    else:
        log(f"newsflow run: {launch.account_line(*counts)}; stopped after {wall:.1f}s")
    if stop.now.is_set():
        return 130  # stopped without waiting for the job to end
    if code:
        log(f"newsflow run: a worker process failed (exit status {code}); its partitions resume from their commits")
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        run_help_parser().print_help()
        return 0
    return run(argv)
