# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: mutmut demo test lint bench clean chromium java

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/inferplan demo --html out/demo.html --markdown out/demo.md

# Headless Chromium for the HTML report tests: Debian's package, installed when missing (sudo only when not root).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  SUDO=; [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && SUDO=sudo; } || { \
	    echo "chromium is missing and this is neither root nor sudo: apt-get install chromium" >&2; exit 1; }; \
	  echo "installing Debian's chromium for the browser tests"; \
	  $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    -o DPkg::Lock::Timeout=600 chromium; }

# Java for the Spark engine's parity tests (pyspark comes with the `spark` extra): Debian's headless JRE 17,
# installed when no `java` is on the PATH.
java:
	@command -v java >/dev/null 2>&1 || { \
	  SUDO=; [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && SUDO=sudo; } || { \
	    echo "java is missing and this is neither root nor sudo: apt-get install openjdk-17-jre-headless" >&2; exit 1; }; \
	  echo "installing Debian's openjdk-17-jre-headless for the Spark engine tests"; \
	  $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    -o DPkg::Lock::Timeout=600 openjdk-17-jre-headless; }

test: $(STAMP) chromium java
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/python -m pytest -n 2  # two workers (pytest-xdist): 262 s here, 440 s on one

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts

bench: $(STAMP)
	$(BIN)/python bench/pricing.py
	$(BIN)/python bench/montecarlo.py

clean:
	rm -rf $(VENV) build *.egg-info

# Mutation testing of the dollar code (docs/testing.md): slow (about an hour on 2 cores), niced, not in `make test`.
mutmut: $(STAMP)
	$(BIN)/pip install --quiet "mutmut==3.8.1"
	rm -rf mutants
	INFERPLAN_SHARED_DATA=$${INFERPLAN_SHARED_DATA:-$(CURDIR)/../shared/data} nice -n 10 $(BIN)/mutmut run
	$(BIN)/mutmut results
	$(BIN)/python scripts/mutate_sql.py src/inferplan/readers/_usage.py tests/test_readers_cache_buckets.py
	$(BIN)/python scripts/mutate_sql.py src/inferplan/readers/bedrock_logs.py tests/test_readers_bedrock.py \
	    tests/test_readers_bedrock_edges.py
