"""`newsflow report --help` says what every flag does."""
import argparse

from pipelines.report.cli import build_parser
from tests.cli.helpers import newsflow


def test_every_flag_has_help_text():
    silent = [a.option_strings or [a.dest] for a in build_parser()._actions if not (a.help or "").strip()]
    assert silent == []


def test_help_lists_the_inputs_and_the_charts():
    result = newsflow("report", "--help", timeout=120)
    assert result.returncode == 0, result.stderr
    for text in ("DIR", "--topic T", "--dlq-topic T", "--start-offsets", "--end-time ISO", "-o FILE, --output FILE",
                 "newsflow report --topic articles.enriched", "map of event locations", "fetches nothing"):
        assert text in result.stdout, text
    listed = newsflow("--help", timeout=120)
    assert "report" in listed.stdout and isinstance(build_parser(), argparse.ArgumentParser)
