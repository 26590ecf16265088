"""Every flag of every command says what it does."""
import argparse

import pytest

from tests.cli.helpers import newsflow


def parsers():
    from pipelines import cli, health
    from pipelines.eval import events, ner
    from pipelines.pipeline import demo, options, replay

    top = cli.build_parser()
    subcommands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    own = {name: subcommands.choices[name] for name in ("kafka", "publish", "consume")}
    return {"newsflow": top, **own, "run": options.run_help_parser(), "replay": replay.build_parser(),
            "demo": demo.build_parser(), "eval ner": ner.build_parser(), "eval events": events.build_parser(),
            "health": health.build_parser()}


@pytest.mark.parametrize("name", ["newsflow", "kafka", "publish", "consume", "run", "replay", "demo",
                                  "eval ner", "eval events", "health"])
def test_every_flag_has_help_text(name):
    parser = parsers()[name]
    silent = [a.option_strings or [a.dest] for a in parser._actions
              if not isinstance(a, argparse._SubParsersAction) and not (a.help or "").strip()]
    assert silent == [], f"newsflow {name}: flags without help text: {silent}"


@pytest.mark.parametrize("command,expected", [
    (("run", "--help"), ["--until-end", "--avro-dir DIR", "(default ./out)", "--log-level",
                         "read N = enriched E + dead-lettered D (reasons)", "Beam's own flags pass through",
                         "--health-file PATH"]),
    (("health", "--help"), ["--file PATH", "--max-age S", "--ready"]),
    (("eval", "--help"), ["newsflow eval ner", "--conll FILE", "newsflow eval events", "--gold FILE", "--resources DIR"]),
])
def test_help_of_delegated_commands_lists_their_flags(command, expected):
    result = newsflow(*command, timeout=120)
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout, text


@pytest.mark.parametrize("command,expected,absent", [
    # The first line of a module docstring is reST; --help showed its ``double backticks``.
    (("replay", "--help"), "newsflow replay: the stream's enrichment as a bounded batch", "``"),
    (("demo", "--help"), "newsflow demo: the main job on the embedded default", "``"),
    # --state-dir is shared with `kafka`, whose help speaks of the broker.
    (("registry", "--help"), "folder for the local schema registry's jars", "local broker's"),
])
def test_help_reads_as_plain_text_about_its_own_command(command, expected, absent):
    result = newsflow(*command, timeout=120)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert expected in text and absent not in text
