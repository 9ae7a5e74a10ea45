#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter, or explain how to get one and fail.
# pyenv resolves `python3.12` inside the project through the committed .python-version.
set -u
for candidate in python3.12 "$HOME/.pyenv/versions/3.12"*/bin/python3.12; do
  if path=$(command -v "$candidate" 2>/dev/null) && "$path" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
echo "error: Python 3.12 not found. Install it (e.g. 'pyenv install 3.12', or your OS package python3.12) so that 'python3.12' is on PATH, then re-run." >&2
exit 1
