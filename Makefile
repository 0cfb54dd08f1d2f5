# Eingang: `make run` sets up and runs the main job, `make test` sets up and runs the tests.
# Both create a virtual environment in .venv on first use; nothing else is needed on a fresh
# Debian machine with Python >= 3.11 (the browser tests install Debian's chromium when run as root).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared
INVOICES ?= $(SHARED)/corpus/kosit-testsuite
OUT    ?= out

.PHONY: setup test run lint bench clean system-deps

$(BIN)/eingang: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/eingang

# Test peers from Debian: chromium (browser tests through Playwright; never `playwright install`)
# and dovecot-imapd (a real IMAP server the mailbox tests start on a loopback port).
DEBIAN_TEST_PACKAGES := chromium dovecot-imapd
system-deps:
	@missing=""; for p in $(DEBIAN_TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian packages:$$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	fi

lint: setup
	$(BIN)/ruff check .

test: setup system-deps lint
	$(BIN)/pytest -q

# The main job today: install the official schemas as the rule pack (when this machine has them),
# then read and judge every invoice in $(INVOICES): a verdict per file on stdout and an HTML
# report in $(OUT)/. Exit status 1 from validate means "some invoices were rejected": an outcome.
run: setup
	@if [ -d $(SHARED)/schemas ]; then $(BIN)/eingang rules install $(SHARED)/schemas; fi
	mkdir -p $(OUT)
	$(BIN)/eingang validate --format text $(INVOICES); test $$? -le 1
	$(BIN)/eingang validate --format html --lang de -o $(OUT)/report.html $(INVOICES); test $$? -le 1
	@echo "report: $(OUT)/report.html"

bench: setup
	$(BIN)/python bench/read_bench.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
