# The two commands a newcomer needs:  `make run`  and  `make test`.
.PHONY: setup run test bench bench-ai bench-site lint clean

setup:
	@bash scripts/setup.sh

## Install, generate the default data set, build the warehouse and the report site.
run: setup
	@.venv/bin/jobmetrics run

## Install, then run the whole test suite (lint, dbt, generator, reports, browser, Spark).
test:
	@bash scripts/setup.sh
	@bash scripts/test.sh

bench: setup
	@.venv/bin/python scripts/bench.py

## Narrative build time with a hanging, a trickling and a healthy API stand-in; tokens; cache hits.
bench-ai: setup
	@.venv/bin/python scripts/bench_ai.py

## Report site: each page's size and how fast an input change redraws (headless Chromium).
bench-site: setup
	@.venv/bin/python scripts/bench_site.py

## SQLFluff on the models and singular tests, ruff on the Python (the suite runs both too).
lint: setup
	@.venv/bin/sqlfluff lint models tests/dbt --disable-progress-bar
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

clean:
	rm -rf data site .site.versions target logs
