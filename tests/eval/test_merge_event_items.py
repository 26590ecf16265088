"""scripts/merge_event_items.py: the merge step of blind sets and corpus writers (docs/blind-sets.md)."""
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _text(n: int, title: str, text: str) -> dict:
    return {"id": f"t-{n}", "title": title, "text": text, "published_at": "2026-01-0%d" % n, "category": "local"}


def _label(row: dict, etype=None) -> dict:
    return dict(row, event_type=etype, mode=None, source_actor=None, target_actor=None, events=[])


def test_merge_joins_labels_and_drops_near_duplicates_of_the_repository_and_of_earlier_items(tmp_path, capsys):
    import merge_event_items
    from event_data import corpus_items

    copy = corpus_items()[0]
    fresh = _text(1, "Zorvath parish council approves a second heron-watching platform",
                  "Councillors in the invented parish of Zorvath voted nine to two on Tuesday to build a second "
                  "heron-watching platform beside the old mill pond, after the first drew record crowds of birders.")
    a = [fresh, _text(2, copy["title"], copy["text"])]                      # a copy of a training item
    b = [dict(fresh, id="t-3", published_at="2026-01-03"),                  # a copy of an earlier item of the merge
         _text(4, "Quillmere library extends its Sunday opening hours into the winter",
               "The invented town of Quillmere will keep its library open on Sunday afternoons until March, the "
               "librarian said, after a survey of 600 residents asked for more weekend hours.")]
    _write(tmp_path / "texts-a.jsonl", a)
    _write(tmp_path / "in-a" / "labels.jsonl", [_label(r) for r in a])
    _write(tmp_path / "texts-b.jsonl", b)
    _write(tmp_path / "in-b" / "labels.jsonl", [_label(r) for r in b])
    out = tmp_path / "merged.jsonl"
    args = ["--folder", str(tmp_path), "--parts", "a", "b", "--origin", "written for a test ({x})",
            "--shared", str(tmp_path / "no-shared"), "--out", str(out)]
    assert merge_event_items.main(args) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["t-1", "t-4"]
    assert rows[0]["origin"] == "written for a test (a)" and rows[1]["origin"] == "written for a test (b)"
    assert list(rows[0])[:5] == ["id", "title", "text", "published_at", "event_type"]
    printed = capsys.readouterr().out
    assert "BBC archive is not checked" in printed and "2 near-duplicates dropped: t-2, t-3" in printed

    # a label file whose text drifted from the writer's is refused
    _write(tmp_path / "in-b" / "labels.jsonl", [_label(dict(b[0], title="Another title")), _label(b[1])])
    assert merge_event_items.main(args) == 1
    assert "part b: t-3: the label's title differs" in capsys.readouterr().err
