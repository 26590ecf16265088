"""Scripts that read ../shared name the missing file in one line and exit 2 when it is absent."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# merge_event_items.py reads ../shared only when it is there (the BBC archive joins its near-duplicate check);
# tests/eval/test_merge_event_items.py runs it without ../shared and checks the line that says so.
OPTIONAL_SHARED = {"merge_event_items.py"}
SCRIPTS = sorted(p.name for p in (REPO / "scripts").glob("*.py")
                 if '"--shared"' in p.read_text(encoding="utf-8") and p.name not in OPTIONAL_SHARED)
REQUIRED_ARGS = {"build_event_bbc_noevent.py": ["--out", "unused.jsonl"]}


def test_every_script_with_a_shared_option_is_checked():
    # The glob finds them by their option; a rename of the option must not empty this test.
    assert len(SCRIPTS) >= 10 and "train_events.py" in SCRIPTS and "cv_events.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_without_shared_folder_says_what_it_needs(script, tmp_path):
    empty = tmp_path / "shared"
    empty.mkdir()
    out = subprocess.run([sys.executable, str(REPO / "scripts" / script), "--shared", str(empty),
                          *REQUIRED_ARGS.get(script, [])], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"scripts/{script}: needs {empty}/data/") or lines[0].startswith(
        f"scripts/{script}: needs {empty}/seeds/"), lines[0]
    assert lines[0].endswith('(not in this clone; see README "Measuring")')
    assert out.stdout == ""


def test_default_folder_is_shown_as_the_readme_writes_it():
    from _shared import BBC, DEFAULT_SHARED, _shown

    assert _shown(DEFAULT_SHARED / BBC) == "../shared/data/archive/bbc_news_2004_2005.jsonl"
