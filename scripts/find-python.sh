#!/bin/sh
# Print the path of a Python >= 3.12 interpreter, or explain and fail.
# $PYTHON, when set, wins (and must itself be >= 3.12).
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

if [ -n "${PYTHON:-}" ]; then
  if ok "$PYTHON"; then command -v "$PYTHON" || echo "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON is not a Python 3.12 or newer. Gensidig needs Django 6.1, which needs Python >= 3.12." >&2
  exit 1
fi
for candidate in python3.14 python3.13 python3.12 \
    "$HOME"/.pyenv/versions/3.14*/bin/python "$HOME"/.pyenv/versions/3.13*/bin/python \
    "$HOME"/.pyenv/versions/3.12*/bin/python /usr/local/bin/python3 /usr/bin/python3 python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 && ok "$candidate"; then
    command -v "$candidate"
    exit 0
  fi
done
cat >&2 <<'MSG'
No Python 3.12 or newer was found. Gensidig needs Django 6.1, which needs Python >= 3.12.
Install one (for example `pyenv install 3.13` or your system's python3.13 package),
or point to it with: make demo PYTHON=/path/to/python3.13
MSG
exit 1
