#!/usr/bin/env bash
# System tools the test suite needs beyond .venv (Debian packages):
#   chromium    the browser tests (headless page checks)
#   ShellCheck  actionlint (installed in .venv from PyPI) uses it to check the workflow's scripts
#   postgresql  the PostgreSQL server the importer tests start themselves (initdb, pg_ctl from
#               /usr/lib/postgresql/<version>/bin; tests/importers/postgres_server.py)
# Idempotent: when all are present it returns at once. It never fails the test command: a tool
# that cannot be installed is reported on stderr, and the tests that need it fail saying why.
set -uo pipefail

warn() { echo "install_test_tools: $*" >&2; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

# As root (CI, containers) or with password-less sudo (GitHub runners); otherwise by hand.
sudo=""
if [ "$(id -u)" != 0 ]; then
    if sudo -n true 2>/dev/null; then
        sudo="sudo -n"
    else
        warn "not root: install ${missing[*]} by hand (apt-get install ${missing[*]})"
        exit 0
    fi
fi
echo "Installing ${missing[*]} (apt-get) ..." >&2
if ! { $sudo apt-get update -qq && \
       $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
       >/dev/null 2>&1; then
    warn "apt-get install ${missing[*]} failed: the tests that need them will fail"
fi
exit 0
