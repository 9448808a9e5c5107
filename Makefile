# guji — the two commands of the README:
#   make demo   install everything (Debian packages, Python venv, viewer test deps) and run the
#               whole pipeline on samples/demo-batch into demo/out
#   make test   run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= demo

.PHONY: install demo serve test wheel-test bench samples clean-demo

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install-system.sh $(wildcard scripts/install-*.sh)
	bash scripts/install-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,cluster]'
	@for s in scripts/install-*.sh; do [ "$$s" = scripts/install-system.sh ] || bash "$$s" || exit 1; done
	touch $@

# Exit code 4 (some items blocked) is a normal outcome for a real batch; the demo batch has none.
demo: install
	$(BIN)/guji run samples/demo-batch --work $(DEMO)/work --out $(DEMO)/out
	@echo
	@echo "Publication: $(DEMO)/out   QC report: $(DEMO)/work/clean/qc/report.html"
	@echo "Browse it:   $(BIN)/guji serve $(DEMO)/out   then open http://127.0.0.1:8000/"

serve: install
	$(BIN)/guji serve $(DEMO)/out

# pytest exits 5 when it collected no tests: that must fail, never look green.
test: install
	@$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The wheel as users get it: built, installed with its dependencies into a fresh venv outside the
# checkout, and `guji run` on a copy of the demo batch from there (CI runs it after `make test`).
wheel-test: install
	BUILD_PYTHON=$(abspath $(BIN)/python) bash scripts/wheel-test.sh

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

samples:
	$(BIN)/python scripts/make_samples.py

clean-demo:
	rm -rf $(DEMO)
