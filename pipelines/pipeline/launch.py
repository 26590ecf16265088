"""What the launchers of ``run``, ``replay`` and ``demo`` share: flags checked before any work,
quiet logging, a private temporary folder, which kind of runner a run is on, and the closing
account of a run (from the runner's metrics).
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
from collections import Counter
from typing import Iterator

from pipelines.config import METRICS_NAMESPACE, add_log_flags

LOG = logging.getLogger(__name__)
QUIET_LOGGERS = {"apache_beam": logging.ERROR, "kafka": logging.CRITICAL}
# Beam's SDK workers (other processes in a multi-process replay) log to the stderr they inherit
# before they have read the pipeline's log level; these are the lines they print then.
WORKER_NOISE = re.compile(rb"^(INFO|DEBUG|WARNING):(__main__|root|apache_beam)[.:\w]*:")
# Beam's embedded default and its variants (``--runner`` names are matched as Beam matches them,
# case-insensitively and with or without "Runner").
EMBEDDED_RUNNERS = {"directrunner", "switchingdirectrunner", "bundlebaseddirectrunner", "fnapirunner"}


class UnknownFlags(ValueError):
    """Flags that neither newsflow nor Beam knows (a typo must not start a run that ignores it)."""


def _drop_import_noise(record: logging.LogRecord) -> bool:
    """Beam warns about optional Google Cloud clients on import; newsflow never uses them. And Beam
    relays Prism's own log (and its SDK workers') whatever the logging level: "-v" shows it."""
    if record.name == "PrismRunner" or record.name.startswith("SdkWorker@"):
        return False
    return not record.getMessage().startswith("apitools not found")


def configure_logging(level: str | None) -> None:
    """``None``: newsflow's own lines only (libraries at ERROR); else every logger at ``level``."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root.setLevel(level or logging.WARNING)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level or quiet)
    for handler in root.handlers:
        if level is None:
            handler.addFilter(_drop_import_noise)
        else:
            handler.removeFilter(_drop_import_noise)


def split_log_flags(argv: list[str]) -> tuple[str | None, list[str]]:
    """Take ``-v`` / ``--log-level`` out of a command line that otherwise goes to Beam."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_log_flags(parser)
    ns, rest = parser.parse_known_args(argv)
    return ns.log_level or ("INFO" if ns.verbose else None), rest


def harness_log_flags(beam_args: list[str], level: str | None) -> list[str]:
    """Beam's SDK workers log at INFO unless told; tell them the level the user asked for."""
    if any(a.startswith("--default_sdk_harness_log_level") for a in beam_args):
        return list(beam_args)
    return list(beam_args) + [f"--default_sdk_harness_log_level={level or 'ERROR'}"]


def check_beam_flags(argv: list[str]) -> None:
    """Raise ``UnknownFlags`` for flags that no registered PipelineOptions class declares.

    Beam itself only warns ("Discarding unparseable args") and runs on; a streaming run with a
    mistyped ``--until-end`` would then never end.
    """
    import difflib
    import importlib

    from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

    importlib.import_module("pipelines.pipeline.options")  # registers newsflow's own PipelineOptions

    parser = _BeamArgumentParser(allow_abbrev=False)
    parser.error = _refuse_flag_value  # argparse's own prints Beam's whole usage (~140 lines) before the one line
    known = []
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)  # pylint: disable=protected-access
    for action in parser._actions:  # pylint: disable=protected-access
        known.extend(action.option_strings)
    _, unknown = parser.parse_known_args(argv)
    flags = [a.split("=", 1)[0] for a in unknown if a.startswith("-")]
    if flags:
        hints = [f"{flag} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(flag, known, 1)) else flag
                 for flag in flags]
        raise UnknownFlags(f"unknown flag{'s' if len(flags) > 1 else ''}: {', '.join(hints)}; see --help")
    stray = [a for a in unknown if not a.startswith("-")]
    if stray:
        raise UnknownFlags(f"unexpected argument{'s' if len(stray) > 1 else ''}: {' '.join(stray)}; see --help")


class FlagValueError(ValueError):
    """A flag value the parser refuses: a usage error, exit status 2 as argparse's own."""

    exit_status = 2


def _refuse_flag_value(message: str) -> None:
    """A flag value the parser refuses (``--batch-size abc``, ``--start-from middle``): one line."""
    raise FlagValueError(f"{message}; see --help")


@contextlib.contextmanager
def private_tempdir(prefix: str) -> Iterator[str]:
    """Point this process and its workers at a temporary folder of their own, removed at exit.

    Beam leaves empty ``beam-temp*`` (a job server it starts and cannot reach here) and ``tmp*``
    folders behind in ``$TMPDIR`` on every run; inside this folder they go with it. The folder
    goes when the process exits, not when the block ends: a job server that Beam started (Prism)
    keeps its own folder in here and is stopped at exit, and it is not stopped at all if that
    folder has vanished. Registered before Beam's, the removal runs after it (last in, first out).
    """
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    saved_env, saved_dir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = folder, folder
    try:
        yield folder
    finally:
        tempfile.tempdir = saved_dir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env


@contextlib.contextmanager
def worker_noise_filtered(enabled: bool = True) -> Iterator[None]:
    """Drop the start-up log lines of Beam's worker processes from stderr; pass everything else.

    The workers inherit file descriptor 2, so the filter sits on the descriptor: a pipe whose
    reader forwards every line (and every carriage-return-ended progress bar update) that is
    not worker noise to the original stderr.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        pending = b""
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                pending += chunk
                *pieces, pending = re.split(rb"(?<=[\r\n])", pending)
                for piece in pieces:
                    if not WORKER_NOISE.match(piece):
                        os.write(original, piece)
        if pending and not WORKER_NOISE.match(pending):
            os.write(original, pending)

    thread = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes our copy of the pipe's write end; workers are gone by now
        thread.join(timeout=5)
        os.close(original)


def bound_runner_metrics() -> None:
    """Keep the embedded runner's metrics from growing with every bundle of an unbounded run.

    Beam 2.77's FnApiRunner (``run_stages``) merges each bundle's monitoring infos into those of
    the stage with ``consolidate(chain(new, old))``, which is a generator: nothing is merged, each
    bundle wraps the previous, unevaluated generator in one more layer, and every bundle's
    MonitoringInfo protos stay referenced until the pipeline ends. A streaming run executes
    bundles without end (an idle reader defers its partition about 10 times a second), so the
    process grew linearly (issue #13: ~9 MiB a minute idle, ~33 MiB a minute loaded) and reading
    the metrics at the end would recurse as deep as the run had bundles. Here the merge is done
    at once (a list), so the runner holds one consolidated set per stage. Idempotent.
    """
    from apache_beam.metrics import monitoring_infos
    from apache_beam.runners.portability.fn_api_runner import fn_runner

    if getattr(fn_runner.consolidate_monitoring_infos, "materialized", False):
        return

    def consolidate(metrics, key=monitoring_infos.to_key):
        return list(monitoring_infos.consolidate(metrics, key))

    consolidate.materialized = True
    fn_runner.consolidate_monitoring_infos = consolidate


def embedded_runner(options) -> bool:
    """Is the run on Beam's embedded default, whose workers are this process or processes beside it?

    Only there do the workers see this process's memory (the readers' stop flag) and this
    machine's disk (a replay's progress files). On any other runner (Prism, Flink, Dataflow)
    the SDK harness runs out of this process, possibly on other machines.
    """
    from apache_beam.options.pipeline_options import StandardOptions

    runner = options.view_as(StandardOptions).runner
    if runner is None:
        return True
    name = (runner if isinstance(runner, str) else type(runner).__name__).rsplit(".", 1)[-1].lower()
    return name in EMBEDDED_RUNNERS or f"{name}runner" in EMBEDDED_RUNNERS


def workers_in_process(pipeline) -> bool:
    """Will this pipeline run its SDK workers in this process?

    True on the embedded runner in memory, and where a portable runner runs them in a LOOPBACK
    environment (Prism's default): threads of this process. False where they are processes of
    their own: a multi-process DirectRunner, ``--environment_type`` EXTERNAL, PROCESS or
    DOCKER, or LOOPBACK with ``--experiments=use_loopback_process_worker``.
    """
    from apache_beam.options.pipeline_options import DebugOptions, DirectOptions, PortableOptions

    options = pipeline.options
    if embedded_runner(options):
        return options.view_as(DirectOptions).direct_running_mode != "multi_processing"
    # Without --environment_type, the runner picks one on submission; ask it now (Prism, and
    # Flink or Spark on a local master, set LOOPBACK on the options, as they will then).
    pipeline.runner.default_environment(options)
    return (options.view_as(PortableOptions).environment_type or "").upper() == "LOOPBACK" and \
        not options.view_as(DebugOptions).lookup_experiment("use_loopback_process_worker", False)


def output_location(path: str) -> str:
    """A local folder as an absolute path (the workers may start in another folder); a URL as given."""
    from apache_beam.io.filesystems import FileSystems

    return path if FileSystems.get_scheme(path) else os.path.abspath(path)


def counter_values(result) -> Counter | None:
    """newsflow's Beam counters of a finished (or cancelled) pipeline, by name; None when the runner reports none.

    A counter's committed value counts only bundles that completed (a retried or cancelled
    bundle is not counted twice, or at all); runners that report only attempted values give those.
    """
    from apache_beam.metrics.metric import MetricsFilter

    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    except Exception as exc:  # noqa: BLE001 - not every runner reports metrics; the run itself succeeded
        LOG.info("no metrics from the runner: %s", exc)
        return None
    values = Counter()
    for counter in counters:
        value = counter.committed if counter.committed is not None else counter.attempted
        values[counter.key.metric.name] += value or 0
    return values


def account_line(enriched: int, dead: Counter) -> str:
    """``read N = enriched E + dead-lettered D (reasons)``: the closing account of every run."""
    total_dead = sum(dead.values())
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(dead.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
    return f"read {enriched + total_dead} = enriched {enriched} + dead-lettered {total_dead} ({reasons})"
