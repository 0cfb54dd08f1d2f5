# Eingang: `make run` sets up and runs the main job, `make test` sets up and runs the tests.
# Both create a virtual environment in .venv on first use; nothing else is needed on a fresh
# Debian machine with Python >= 3.11 (the browser tests install Debian's chromium when run as root).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared
INVOICES ?= $(SHARED)/corpus/kosit-testsuite
OUT    ?= out

.PHONY: setup test run down validate lint bench clean system-deps

$(BIN)/eingang: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The official XML Schemas become the default rule pack (what `eingang validate` uses without
# options) when this machine has them; `rules install` checks each file against the pinned manifest.
setup: $(BIN)/eingang
	@if [ -d $(SHARED)/schemas ]; then \
		$(BIN)/eingang rules verify >/dev/null 2>&1 || $(BIN)/eingang rules install $(SHARED)/schemas; \
	fi

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
	$(BIN)/ruff format --check .

test: setup system-deps lint
	$(BIN)/pytest -q

# The main job: start the platform on embedded defaults (PostgreSQL, SeaweedFS, Prefect, web app,
# flow runner) under $(DATA), install the official schemas as the rule pack (when this machine has
# them), write the sample invoices Eingang generates itself, take them in and show the verdicts.
# The services keep running for the web view and the Prefect UI; `make down` stops them.
DATA ?= $(CURDIR)/.eingang
run: setup
	$(BIN)/eingang up --data-dir $(DATA)
	@if [ -d $(SHARED)/schemas ]; then $(BIN)/eingang rules install --rules-dir $(DATA)/rules $(SHARED)/schemas; fi
	$(BIN)/eingang samples $(DATA)/samples
	@# The samples include a wrong total and a plain PDF on purpose: submit's exit status 1 (some
	@# document rejected) is the expected outcome here; only 2 (usage, I/O or service error) stops the run.
	$(BIN)/eingang submit --data-dir $(DATA) $(DATA)/samples/* || [ $$? -eq 1 ]
	$(BIN)/eingang list --data-dir $(DATA)
	$(BIN)/eingang status --data-dir $(DATA)

down: setup
	$(BIN)/eingang down --data-dir $(DATA)

# Judge a folder of invoices without any services: a verdict per file and an HTML report.
validate: setup
	$(BIN)/eingang validate --schemas $(SHARED)/schemas --format text $(INVOICES); test $$? -le 1
	mkdir -p $(OUT)
	$(BIN)/eingang validate --schemas $(SHARED)/schemas --format html --lang de -o $(OUT)/report.html $(INVOICES); \
		test $$? -le 1

bench: setup
	$(BIN)/python bench/read_bench.py
	$(BIN)/python bench/validate_bench.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
