"""scripts/fuzz_article.py runs for the time it is given and finds no exception but InvalidArticle."""
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_short_fuzz_run_counts_outcomes_and_meets_no_unexpected_exception():
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "fuzz_article.py"), "--seconds", "2"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    iterations = int(re.search(r"^fuzz_article: (\d+) iterations", out.stdout, re.M).group(1))
    assert iterations > 0
    assert re.search(r"^  valid\s+\d+$", out.stdout, re.M) and re.search(r"^  MalformedJSON\s+\d+$", out.stdout, re.M)
    assert "unexpected exceptions: 0" in out.stdout
