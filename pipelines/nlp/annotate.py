"""The annotate step, one place for the pipeline and the evaluation: spaCy over an article's
headline and body, then its entities (when an entity resolver is given) and its PLOVER events.

``EnrichArticles`` (``pipelines.pipeline.enrich``) and ``newsflow eval events`` / the event
scripts (``pipelines.eval.events``) both call these, so what is measured is what runs.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable, Iterator


def parse(nlp, titles: Iterable[str], bodies: Iterable[str], batch_size: int = 32) -> Iterator[tuple]:
    """(title doc, body doc) per article, in order, parsed in batches ("" for a missing headline)."""
    return zip(nlp.pipe(titles, batch_size=batch_size), nlp.pipe(bodies, batch_size=batch_size))


def annotate(title_doc, body_doc, published_at: datetime | None, coder, resolver=None,
             checkpoint: Callable[[str], None] | None = None) -> tuple[list, list, str | None]:
    """(entities, events, primary event type) of one parsed article.

    ``checkpoint(step)`` is called after each step: the pipeline's per-record time budget raises there.
    """
    entities = resolver.resolve(title_doc, body_doc, published_at) if resolver is not None else []
    if checkpoint is not None:
        checkpoint("entities")
    events, primary = coder.code(title_doc, body_doc, entities, published_at)
    if checkpoint is not None:
        checkpoint("events")
    return entities, events, primary
