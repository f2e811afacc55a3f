# Two commands matter:  make demo  (run the demo)   make test  (run the tests)
# Everything they need is installed by this file into .venv (and Debian's
# chromium for the browser tests, when it is missing and we may install it).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: install demo test lint browser messages bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/haven demo $(ARGS)

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser
	$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	HAVEN_MODE=test HAVEN_DATA=$$(mktemp -d) $(VENV)/bin/mypy haven

# haven/locale holds every string but those of intake and knowledge, which keep
# their own catalogs (haven/intake/locale, haven/knowledge/locale).
messages: $(STAMP)
	cd haven && ../$(VENV)/bin/django-admin makemessages --settings=tests.settings --pythonpath=.. \
	  -l ru -l uk -l en --no-obsolete -i "intake/*" -i "knowledge/*" \
	  -i "templates/intake/*" -i "templates/knowledge/*"
	cd haven && ../$(VENV)/bin/django-admin compilemessages --settings=tests.settings --pythonpath=..

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b; done

clean:
	rm -rf $(VENV)
