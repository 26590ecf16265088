"""The package builds cleanly and carries its resources."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_builds_without_setuptools_warnings_and_ships_resources(tmp_path):
    # The resource folders once made setuptools print ~85 lines of "Package would be ignored" at set-up.
    # Built from a copy: pip builds in the source tree and would leave build/ in the checkout.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.py", "README.md", "MANIFEST.in", "LICENSE", "NOTICE"):
        shutil.copy(REPO / name, source / name)
    for folder in ("pipelines", "schemas", "deploy", "seeds"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "target"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "would be ignored" not in result.stdout + result.stderr
    (wheel,) = tmp_path.glob("newsflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("pipelines/resources/events/classifier.npz", "pipelines/resources/entities/gazetteer.json",
                 "pipelines/resources/schemas/enriched_article.avsc", "pipelines/resources/seeds/articles.jsonl",
                 "pipelines/resources/deploy/kafka/pom.xml", "pipelines/resources/schemas/history/enriched_article.v1.avsc"):
        assert name in names
