"""`newsflow publish` on a pipe: its own lines only, no progress-bar residue."""
import pytest

from tests.cli.helpers import REPO, newsflow

pytestmark = pytest.mark.integration


def test_publish_on_a_pipe_prints_counts_not_a_bar(kafka_broker, topic_name):
    result = newsflow("publish", REPO / "seeds" / "articles.jsonl", "--topic", topic_name,
                      "--bootstrap-servers", kafka_broker)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "published 13, rejected 0"
    assert "\r" not in result.stderr and "art/s" not in result.stderr and "art [" not in result.stderr
