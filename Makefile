# Everyday tasks. `make install` first; the rest run in .venv.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install lint test-fast test bench example

install:
	python3 -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'

# the same lint CI runs first (.ci/run)
lint:
	$(BIN)/ruff check featureduck tests benchmarks
	$(BIN)/mypy

# no servers, no Spark: well under a minute
test-fast:
	$(BIN)/pytest -m fast

# everything CI runs: needs the PostgreSQL and MariaDB servers and Java (see CONTRIBUTING.md)
test:
	$(BIN)/pytest

# the headline figures of benchmarks/README.md: compile and run of the generated
# 1000-model project, training sets, materialize and serving (needs wrk for serving)
bench:
	$(BIN)/python benchmarks/bench_core.py --sizes 1000 --run-sizes 1000
	$(BIN)/python benchmarks/bench_training_set.py
	$(BIN)/python benchmarks/bench_online.py

example:
	cd /tmp && rm -rf fduck-demo && $(CURDIR)/$(BIN)/fduck init fduck-demo && cd fduck-demo && $(CURDIR)/$(BIN)/fduck run
