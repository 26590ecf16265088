"""Bad configuration is a one-line error with a non-zero exit, before any work starts."""
import time

import pytest

from tests.cli.helpers import DEAD_BROKER, newsflow, one_line_error


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("headline,text\nTalks resume,Ministers met in Geneva on Monday.\n")
    return path


@pytest.mark.parametrize("mapping,expected", [
    (None, "has no body column (its columns: headline, text); name it with --csv-columns body=COLUMN"),
    ("title=headline", "has no body column"),
    ("body=txt", "has no column for --csv-columns body=txt (its columns: headline, text)"),
    ("body=text,published_at=date", "has no column for --csv-columns published_at=date"),
])
def test_publish_refuses_a_csv_mapping_that_cannot_give_a_body(csv_file, mapping, expected):
    args = ["publish", csv_file, "--bootstrap-servers", DEAD_BROKER] + (["--csv-columns", mapping] if mapping else [])
    line = one_line_error(newsflow(*args))
    assert line.startswith("newsflow publish: ") and expected in line


def test_replay_refuses_a_csv_mapping_that_cannot_give_a_body(csv_file, tmp_path):
    line = one_line_error(newsflow("replay", "--input", csv_file, "--csv-columns", "body=txt",
                                   "--avro-dir", tmp_path / "out"))
    assert line.startswith("newsflow replay: ") and "has no column for --csv-columns body=txt" in line
    assert not list((tmp_path / "out").rglob("*.avro"))


def test_consume_of_a_missing_avro_folder_is_an_error(tmp_path):
    result = newsflow("consume", "--avro", tmp_path / "nowhere")
    assert one_line_error(result) == f"newsflow consume: no such file or folder: {tmp_path / 'nowhere'}"
    assert result.stdout == ""


def test_replay_to_an_unwritable_folder_fails_before_the_run(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "in.jsonl").write_text('{"body": "Ministers met in Geneva on Monday."}\n')
    started = time.monotonic()
    line = one_line_error(newsflow("replay", "--input", tmp_path / "in.jsonl", "--avro-dir", tmp_path / "a-file" / "out"))
    assert line.startswith(f"newsflow replay: cannot write to --avro-dir {tmp_path / 'a-file' / 'out'}")
    assert time.monotonic() - started < 30  # refused up front, not after loading the models


@pytest.mark.parametrize("command,flag,hint", [
    ("run", "--untill-end", "--until-end"),
    ("run", "--avro_dir=x", "--avro-dir"),
    ("replay", "--direct_num_worker=2", "--direct_num_workers"),
])
def test_unknown_flags_are_refused_with_a_suggestion(tmp_path, command, flag, hint):
    extra = ["--input", tmp_path / "in.jsonl", "--avro-dir", tmp_path / "out"] if command == "replay" else []
    (tmp_path / "in.jsonl").write_text('{"body": "x"}\n')
    line = one_line_error(newsflow(command, flag, "--bootstrap-servers", DEAD_BROKER, *extra))
    assert line == f"newsflow {command}: unknown flag: {flag.split('=')[0]} (did you mean {hint}?); see --help"


def test_beam_flags_still_pass_through_the_flag_check():
    from pipelines.pipeline.launch import check_beam_flags

    check_beam_flags(["--runner=PrismRunner", "--prism_location=/x", "--direct_num_workers=2",
                      "--bootstrap-servers", "h:1", "--until-end", "--flink_master=localhost:8081"])
    with pytest.raises(ValueError, match="unexpected argument: stray"):
        check_beam_flags(["stray"])


@pytest.mark.parametrize("command", [("publish",), ("replay", "--avro-dir", "OUT", "--input")])
def test_a_missing_input_is_reported_as_such_while_the_broker_is_down(tmp_path, command):
    args = [a if a != "OUT" else tmp_path / "out" for a in command]
    line = one_line_error(newsflow(*args, tmp_path / "missing.jsonl", "--bootstrap-servers", DEAD_BROKER,
                                   *(["--output-topic", "x"] if command[0] == "replay" else [])))
    assert line == f"newsflow {command[0]}: no input matches '{tmp_path / 'missing.jsonl'}'"


@pytest.mark.parametrize("flag,value,expected", [
    ("--story-memory-hours", "0", "--story-memory-hours must be more than 0, not 0"),
    ("--story-index-size", "0", "--story-index-size must be 1 or more, not 0"),
    ("--story-window-hours", "-1", "--story-window-hours must be 0 or more, not -1"),
])
def test_replay_refuses_story_bounds_out_of_range(tmp_path, flag, value, expected):
    (tmp_path / "in.jsonl").write_text('{"body": "Ministers met in Geneva on Monday."}\n')
    line = one_line_error(newsflow("replay", "--input", tmp_path / "in.jsonl", "--avro-dir", tmp_path / "out",
                                   flag, value))
    assert line == f"newsflow replay: {expected}"


def test_run_refuses_a_story_bound_out_of_range_before_the_broker():
    line = one_line_error(newsflow("run", "--bootstrap-servers", DEAD_BROKER, "--story-index-size", "-5"))
    assert line == "newsflow run: --story-index-size must be 1 or more, not -5"


@pytest.mark.parametrize("value", ["0", "-3"])
def test_run_and_replay_refuse_a_batch_size_below_one_before_any_work(tmp_path, value):
    # Before the check, each worker failed in Beam's batching ("Minimum (1) must not be greater than maximum").
    line = one_line_error(newsflow("run", "--bootstrap-servers", DEAD_BROKER, "--batch-size", value))
    assert line == f"newsflow run: --batch-size must be 1 or more, not {value}"
    (tmp_path / "in.jsonl").write_text('{"body": "Ministers met in Geneva on Monday."}\n')
    line = one_line_error(newsflow("replay", "--input", tmp_path / "in.jsonl", "--avro-dir", tmp_path / "out",
                                   "--batch-size", value))
    assert line == f"newsflow replay: --batch-size must be 1 or more, not {value}"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.avro"))


@pytest.mark.integration
def test_replay_of_a_topic_that_does_not_exist_is_one_line(kafka_broker, topic_name, tmp_path):
    # Before the check, the replay started and every worker failed with a traceback.
    line = one_line_error(newsflow("replay", "--from-topic", topic_name, "--avro-dir", tmp_path / "out",
                                   "--bootstrap-servers", kafka_broker))
    assert line == (f"newsflow replay: no topic {topic_name} at {kafka_broker} (replay reads an existing topic)")
    assert not any((tmp_path / "out").rglob("*.avro"))


@pytest.mark.parametrize("flag,value,expected", [
    ("--batch-size", "abc", "argument --batch-size: invalid int value: 'abc'; see --help"),
    ("--start-from", "middle",
     "argument --start-from: invalid choice: 'middle' (choose from 'earliest', 'latest'); see --help"),
])
def test_run_refuses_a_bad_flag_value_in_one_line(flag, value, expected):
    # Before, argparse printed Beam's whole usage (about 140 lines) above the error.
    result = newsflow("run", "--bootstrap-servers", DEAD_BROKER, flag, value)
    assert one_line_error(result) == f"newsflow run: {expected}"
    assert result.returncode == 2  # a usage error, as publish's and consume's


@pytest.mark.parametrize("flag,value,expected", [
    ("--max", "-1", "argument --max: must be 1 or more, not -1"),
    ("--max", "0", "argument --max: must be 1 or more, not 0"),
    ("--timeout", "-5", "argument --timeout: must be > 0, not -5"),
])
def test_consume_refuses_a_count_or_timeout_below_one(flag, value, expected):
    # Before, consume ended at once with "consumed 0 record(s)" and exit 0, as if the topic were empty.
    result = newsflow("consume", "--bootstrap-servers", DEAD_BROKER, flag, value, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"newsflow consume: error: {expected}"


@pytest.mark.integration
def test_consume_of_a_topic_that_does_not_exist_says_so(kafka_broker, topic_name):
    # Before, the only line was "consumed 0 record(s)", as for an empty topic.
    result = newsflow("consume", "--topic", topic_name, "--timeout", "2", "--bootstrap-servers", kafka_broker,
                      timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"consume: no topic {topic_name} at {kafka_broker} (yet); waiting 2 s for records",
                     "consumed 0 record(s)"]


@pytest.mark.parametrize("flag,value,expected", [
    ("--max-polls", "abc", "argument --max-polls: takes a whole number, not 'abc'"),
    ("--max-bytes", "0", "argument --max-bytes: must be 1 or more, not 0"),
    ("--interval", "0", "argument --interval: must be > 0, not 0"),
    ("--forget-after", "-1", "argument --forget-after: must be > 0, not -1"),
])
def test_feeds_refuses_a_count_or_duration_below_its_floor_as_the_other_commands_do(flag, value, expected):
    # feeds reads its numbers with the same argparse types as consume and eval (pipelines/config.py).
    result = newsflow("feeds", "http://127.0.0.1:9/rss.xml", "--dry-run", flag, value, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"newsflow feeds: error: {expected}"


def test_registry_up_refuses_a_java_that_newsflow_registry_java_names_but_is_not_java(tmp_path):
    # $NEWSFLOW_REGISTRY_JAVA is read by pipelines.config (the one reader of the environment) and
    # checked before the registry's download.
    result = newsflow("registry", "up", "--state-dir", tmp_path / "home", env={"NEWSFLOW_REGISTRY_JAVA": "/bin/true"})
    line = one_line_error(result)
    assert line.startswith("newsflow registry: NEWSFLOW_REGISTRY_JAVA=/bin/true is not Java 21+"), line
    assert not list((tmp_path / "home").rglob("*.jar"))
