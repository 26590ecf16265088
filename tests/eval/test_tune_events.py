"""scripts/tune_events.py runs end to end and scores the defaults on a tiny tuning file."""
import json
import subprocess
import sys
from pathlib import Path

from tests.fixtures import stand_in_shared

REPO = Path(__file__).resolve().parents[2]


def test_tuner_scores_the_defaults(tmp_path):
    gold = tmp_path / "tune.jsonl"
    items = [
        {"id": "t1", "title": "Police arrest opposition leader in Minsk",
         "text": "Police arrested the opposition leader in Minsk on Sunday.", "event_type": "COERCE"},
        {"id": "t2", "title": "Chelsea beat Arsenal", "text": "Chelsea beat Arsenal 2-1 on Saturday.",
         "event_type": None},
    ]
    gold.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    # The sport/entertainment articles come from the fixtures, standing in for the BBC archive.
    shared = stand_in_shared(tmp_path / "shared")
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "tune_events.py"), "--tune", str(gold),
                          "--shared", str(shared), "--bbc", "3", "--defaults-only"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("tuning items: 2, all-'none' baseline accuracy 0.500")
    defaults = [line for line in lines if line.endswith("(defaults)")]
    assert defaults and float(defaults[0].split()[0]) == 1.0   # both items right: balanced accuracy 1
