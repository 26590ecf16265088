"""``newsflow publish``: raw articles from files into ``articles.raw``.

Rows are validated before they are sent: invalid ones are reported with their reason and
not published, and the run goes on. Key = article id, value = the contract's JSON object.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field

from pipelines.article import InvalidArticle, article_from_mapping, encode_raw
from pipelines.config import DEFAULT_MAX_ARTICLE_BYTES
from pipelines.io.archives import CsvMapping, expand_inputs, read_file
from pipelines.console import progress_counter


@dataclass
class PublishReport:
    """What a publish run did, for the final count line."""

    published: int = 0
    rejected: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.rejected.items()))
        rejected = sum(self.rejected.values())
        return f"published {self.published}, rejected {rejected}" + (f" ({reasons})" if reasons else "")


def publish_files(producer, topic: str, patterns, mapping: CsvMapping = CsvMapping(),
                  max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES, progress: bool = True,
                  report_problem=lambda msg: print(msg, file=sys.stderr)) -> PublishReport:
    """Validate and publish every row of the given files; return the counts."""
    report = PublishReport()
    files = expand_inputs(patterns)
    bar = progress_counter("publish", enabled=progress)
    futures = []
    for path in files:
        for row in read_file(path, mapping):
            bar.update(1)
            try:
                if row.error:
                    raise row.error
                article = article_from_mapping(row.payload, max_bytes)
            except InvalidArticle as exc:
                report.rejected[exc.error_class] += 1
                problem = f"rejected {row.location}: {exc.error_class}: {exc}"
                report.problems.append(problem)
                report_problem(problem)
                continue
            futures.append(producer.send(topic, key=article.id.encode("utf-8"), value=encode_raw(article)))
            report.published += 1
    producer.flush()
    bar.close()
    for future in futures:
        future.get(timeout=30)  # surfaces any delivery error instead of reporting success
    return report
