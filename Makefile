# The two commands a user needs: `make check` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: check test test-ray lint typecheck diagrams bench bench-bmc bench-mutation clean browser \
	native

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,browser]' \
	  >/dev/null 2>&1 || echo "playwright could not be installed: the browser tests will be skipped"
	@touch $(STAMP)

# The HTML reports' browser tests drive Debian's chromium; install it where apt-get is usable
# (CI runs as root), else the tests skip with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium; } >/dev/null 2>&1 \
	      || echo "chromium could not be installed: the browser tests will be skipped"; \
	  else echo "chromium is missing and apt-get is not usable: the browser tests will be skipped"; \
	  fi; }

check: $(STAMP)
	@$(BIN)/python -m nova_resize.native_build --auto
	$(BIN)/nova-resize check

# the engine's hot modules compiled with mypyc into .native/ (about 25 s; needs a C compiler and
# Python's headers). The engine uses the build only while it matches the sources: an edit makes
# it run the Python again until the next build. make check builds it when it can.
native: $(STAMP)
	$(BIN)/python -m nova_resize.native_build

test: $(STAMP) typecheck browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# the parallel search on a local Ray cluster: Ray is an optional extra (a 67 MB wheel and a
# cluster's daemons), so make test leaves it out and that test skips, saying why
test-ray: $(STAMP)
	@$(BIN)/python -c "import ray" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,ray]'
	$(BIN)/python -m pytest tests/test_parallel.py -k ray -rs

lint: $(STAMP)
	$(BIN)/ruff check .

# mypy reads the three source folders under their import names through a tree of symlinks
# (the project maps nova_resize.spec to spec/ etc. with setuptools' package-dir)
typecheck: $(STAMP)
	@mkdir -p .typecheck/nova_resize
	@for f in nova_resize/*.py nova_resize/py.typed; do ln -sfn ../../$$f .typecheck/nova_resize/; done
	@for d in spec engine checker; do ln -sfn ../../$$d .typecheck/nova_resize/$$d; done
	$(BIN)/mypy -p nova_resize

diagrams: $(STAMP)
	$(BIN)/nova-resize diagram --out diagrams --quiet

bench: $(STAMP)
	$(BIN)/python bench/bench_check.py

# the deep bounded model checks (minutes; the suite keeps a shallow cross-check)
bench-bmc: $(STAMP)
	$(BIN)/python bench/bench_bmc.py --config bmc --depth 15
	$(BIN)/python bench/bench_bmc.py --config bmc-races --depth 8

# mutation testing of the engine (cosmic-ray; a sample of each module's mutants)
bench-mutation: $(STAMP)
	@$(BIN)/python -c "import cosmic_ray, coverage" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,mutation]'
	$(BIN)/python bench/bench_mutation.py $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .native
