"""Default output is newsflow's own lines; runs clean up after themselves; Avro output is read back by kind."""
import json
import re

import pytest

from tests.cli.helpers import REPO, newsflow

BEAM_NOISE = re.compile(r"^(INFO|WARNING|DEBUG):|apache_beam|apitools|semi_persistent_directory|"
                        r"Discarding unparseable args|\bINFO\b")


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """A multi-process replay of three seed articles and two bad lines, with a TMPDIR of its own."""
    folder = tmp_path_factory.mktemp("replay")
    seeds = (REPO / "seeds" / "articles.jsonl").read_text().splitlines()[:3]
    (folder / "in.jsonl").write_text("\n".join(seeds + ["{not json", json.dumps({"title": "no body"})]) + "\n")
    scratch = folder / "tmp"
    scratch.mkdir()
    result = newsflow("replay", "--input", folder / "in.jsonl", "--avro-dir", folder / "out",
                      env={"TMPDIR": str(scratch)}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, result


def test_replay_prints_only_its_own_lines(replayed):
    _, result = replayed
    noisy = [line for line in result.stderr.splitlines() if BEAM_NOISE.search(line)]
    assert noisy == []
    assert all(line.startswith("replay: ") for line in result.stderr.splitlines()), result.stderr
    # On a pipe: plain count lines, never a progress bar's carriage returns.
    assert "\r" not in result.stderr and "art/s" not in result.stderr
    assert result.stdout.startswith("replay: read 5 = enriched 3 + dead-lettered 2 (MalformedJSON 1, MissingBody 1)")


def test_replay_leaves_nothing_in_tmpdir(replayed):
    folder, _ = replayed
    assert list((folder / "tmp").iterdir()) == []


def test_consume_avro_shows_enriched_records_and_counts_both_kinds(replayed):
    folder, _ = replayed
    result = newsflow("consume", "--avro", folder / "out")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 3 and all("entities" in r and "error_class" not in r for r in records)
    assert result.stderr.strip() == (f"consumed 3 enriched record(s) from {folder / 'out'}: 3 enriched, "
                                     f"2 dead-lettered there; --dead-letters shows those")


def test_consume_avro_dead_letters_on_request(replayed):
    folder, _ = replayed
    result = newsflow("consume", "--avro", folder / "out", "--dead-letters")
    assert result.returncode == 0, result.stderr
    letters = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["error_class"] for r in letters) == ["MalformedJSON", "MissingBody"]
    assert all("entities" not in r for r in letters)
    assert result.stderr.startswith("consumed 2 dead letter(s)")
