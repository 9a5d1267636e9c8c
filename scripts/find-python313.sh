#!/usr/bin/env bash
# Prints the path of a CPython 3.13 interpreter, or nothing (exit 0 either way). `sam build` uses it to compile the
# layer's and the functions' bytecode for Lambda's python3.13 runtime: a .pyc is only read by the CPython minor
# version that wrote it. Only interpreters already on this machine are used, nothing is downloaded:
# $PYTHON313 if set, python3.13 on PATH, then uv's and pyenv's installed interpreters.
set -uo pipefail

is_313() {
    [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13) or sys.implementation.name != "cpython")' \
        >/dev/null 2>&1
}

candidates=("${PYTHON313:-}" "$(command -v python3.13 2>/dev/null)")
if command -v uv >/dev/null 2>&1; then
    candidates+=("$(UV_PYTHON_DOWNLOADS=never uv python find --no-project 3.13 2>/dev/null)")
fi
if command -v pyenv >/dev/null 2>&1; then
    for prefix in "$(pyenv root 2>/dev/null)"/versions/3.13*; do
        candidates+=("$prefix/bin/python3.13")
    done
fi
for candidate in "${candidates[@]}"; do
    if is_313 "$candidate"; then
        # the real interpreter behind a shim (pyenv's python3.13 shim only runs when 3.13 is selected)
        "$candidate" -c 'import sys; print(sys.executable)'
        exit 0
    fi
done
exit 0
