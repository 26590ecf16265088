"""The files newsflow reads at run time, found one way whether it runs from a checkout or installed.

Model assets live here (``entities/…``, ``events/…``). The checkout's top-level ``schemas/``,
``deploy/kafka/pom.xml`` and ``seeds/`` are part of the user-facing layout; ``setup.py`` copies
them into this folder when it builds the package, so an installed newsflow (a wheel, or Beam
workers fed by ``--setup_file``) has them too.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]


def resource_path(relative: str) -> Path:
    """``entities/gazetteer.json``, ``schemas/article.avsc``, ``seeds/articles.jsonl``, ...: the file's path."""
    for candidate in (HERE / relative, CHECKOUT / relative):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"newsflow resource {relative} not found (looked in {HERE} and {CHECKOUT}); "
                            f"reinstall newsflow")
