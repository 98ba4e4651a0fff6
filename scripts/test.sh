#!/usr/bin/env bash
# The whole test suite; `make test` installs first, then runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f scripts/install_test_tools.sh ]; then
    bash scripts/install_test_tools.sh
fi
# Two workers (pytest-xdist), one per core; each test file runs on one worker, so its module
# fixtures are built once; the session's shared data is built once (tests/once.py). `-n 0` as
# an argument runs everything in this process. Files are handed out in collection order (the
# longest first, tests/conftest.py LONGEST_FIRST), not reordered by their number of tests.
exec .venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder "$@"
