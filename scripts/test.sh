#!/usr/bin/env bash
# The whole test suite; `make test` installs first, then runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f scripts/install_test_tools.sh ]; then
    bash scripts/install_test_tools.sh
fi
exec .venv/bin/python -m pytest "$@"
