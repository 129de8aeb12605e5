# Two commands on a fresh machine:
#   make demo   sets up .venv and runs the demo agent
#   make test   sets up .venv and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench pictures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m firewall.demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[all,dev,bench]'
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# The README's pictures and the trace notebook's outputs, from a fresh demo run.
pictures: $(STAMP)
	$(BIN)/python -m firewall.demo --scripted --svg docs/demo-run.svg > /dev/null
	cp demo-output/demo-graph.png docs/demo-graph.png
	$(BIN)/python notebooks/execute.py notebooks/inspect_trace.ipynb

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
