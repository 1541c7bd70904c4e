#!/bin/sh
# Creates (once) the virtualenv holding Synapse for the Matrix tests:
# .cache/synapse-venv in the repository, or $COORDBOT_SYNAPSE_VENV. Call it from .ci/run before pytest.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
exec "$PYTHON" -m tests.matrix.synapse
