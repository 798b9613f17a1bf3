# The two commands a user needs: `make check` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: check test lint typecheck diagrams bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

check: $(STAMP)
	$(BIN)/nova-resize check

test: $(STAMP) typecheck
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

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

clean:
	rm -rf $(VENV) build *.egg-info
