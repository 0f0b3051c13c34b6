#!/usr/bin/env bash
# Creates <repo>/.venv with the Python reference packages (scripts/requirements-python.txt), idempotently.
# Tests find it through @transllm/core's test helpers (TRANSLLM_PYTHON overrides the interpreter) and skip,
# saying why, when it is missing. Exit 0 even when the index is unreachable: the tests report the skip.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${TRANSLLM_VENV:-$root/.venv}"
req="$root/scripts/requirements-python.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "python reference: $venv is up to date"
	exit 0
fi
python3 -m venv "$venv" || { echo "python reference: cannot create $venv (python3-venv missing?); Python-backed tests will skip"; exit 0; }
if "$venv/bin/pip" install --quiet --disable-pip-version-check --retries 0 --timeout 20 -r "$req"; then
	echo "$want" > "$stamp"
	echo "python reference: installed into $venv"
else
	echo "python reference: pip could not install $req; Python-backed tests will skip"
fi
exit 0
