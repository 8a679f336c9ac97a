#!/usr/bin/env bash
# Lock+unlock round trips of the real Redis and PostgreSQL clients against redis-py and
# psycopg 3, in one run on the same servers (Redis 127.0.0.1:6379, PostgreSQL 127.0.0.1:5432).
# The Python libraries are installed from PyPI into a venv under /tmp by this script only.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LOCKPROOF_CLIENTS_VENV:-/tmp/lockproof-clients-venv}
if ! "$VENV/bin/python" -c 'import redis, psycopg' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet redis 'psycopg[binary]'
fi
"$VENV/bin/python" -c 'import redis, psycopg; print("redis-py", redis.__version__, "psycopg", psycopg.__version__)'
LOCKPROOF_CLIENTS_PYTHON="$VENV/bin/python" \
    cargo run --quiet -p lockproof-distributed --example clients_vs_python
