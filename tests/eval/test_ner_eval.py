"""Entity-level NER scoring against CoNLL files."""
import json

from pipelines.eval.ner import Scores, iob_spans, main, read_conll

CONLL = """-DOCSTART- -X- -X- O

Sergei NNP I-NP I-PER
Shoigu NNP I-NP I-PER
met VBD I-VP O
Kim NNP I-NP I-PER
Jong NNP I-NP I-PER
Un NNP I-NP I-PER
in IN I-PP O
Pyongyang NNP I-NP I-LOC
. . O O

Russian JJ I-NP I-MISC
troops NNS I-NP O
left VBD I-VP O
Ukraine NNP I-NP I-LOC
. . O O
"""


def test_iob1_and_iob2_spans():
    assert iob_spans(["I-PER", "I-PER", "O", "I-LOC"]) == {(0, 2, "PER"), (3, 4, "LOC")}
    assert iob_spans(["I-PER", "B-PER", "O"]) == {(0, 1, "PER"), (1, 2, "PER")}
    assert iob_spans(["B-ORG", "I-ORG", "I-LOC"]) == {(0, 2, "ORG"), (2, 3, "LOC")}


def test_scores_are_exact_match_per_type():
    scores = Scores()
    scores.add(gold={(0, 2, "PER"), (3, 4, "LOC")}, predicted={(0, 2, "PER"), (3, 4, "ORG")})
    assert scores.prf("PER") == (1.0, 1.0, 1.0)
    assert scores.prf("LOC") == (0.0, 0.0, 0.0)
    precision, recall, f1 = scores.prf()
    assert (precision, recall, f1) == (0.5, 0.5, 0.5)


def test_read_conll_skips_docstart(tmp_path):
    path = tmp_path / "mini.conll"
    path.write_text(CONLL, encoding="utf-8")
    sentences = list(read_conll(path))
    assert [len(s.words) for s in sentences] == [9, 5]
    assert sentences[0].spans == {(0, 2, "PER"), (3, 6, "PER"), (7, 8, "LOC")}


def test_cli_prints_per_type_figures(tmp_path, capsys):
    path = tmp_path / "mini.conll"
    path.write_text(CONLL, encoding="utf-8")
    assert main(["--conll", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["scores"]) == {"PER", "LOC", "ORG", "MISC", "overall"}
    assert report["scores"]["PER"]["support"] == 2
    assert report["scores"]["overall"]["f1"] > 0.5


def test_cli_missing_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["--conll", str(tmp_path / "absent.conll")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot read" in err


def test_title_case_variant_keeps_gold_spans(tmp_path, capsys):
    from pipelines.eval.ner import headline_variant, title_case

    assert title_case(["troops", "left", "the", "city", "of", "Kyiv"]) == ["Troops", "Left", "the", "City", "of", "Kyiv"]
    path = tmp_path / "mini.conll"
    path.write_text(CONLL, encoding="utf-8")
    variant = headline_variant(read_conll(path))
    assert variant[1].words[:3] == ["Russian", "Troops", "Left"]
    assert variant[1].spans == {(0, 1, "MISC"), (3, 4, "LOC")}
    assert main(["--conll", str(path), "--title-case"]) == 0
    assert "Title-Cased sentences" in capsys.readouterr().out
