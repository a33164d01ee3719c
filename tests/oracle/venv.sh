# Sourced by tests/oracle/run and tests/coverage/run. `oracle_venv` makes
# tests/.venv-oracle from tests/oracle/requirements.txt, re-makes it whenever
# that file changes, and sets ORACLE_PYTHON to its interpreter.
oracle_venv() {
  local here tests venv req python
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  tests="$(dirname "$here")"
  venv="$tests/.venv-oracle"
  req="$here/requirements.txt"
  python="${PYTHON:-python3}"
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$venv/requirements.txt"; then
    echo "oracle: creating $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    cp "$req" "$venv/requirements.txt"
  fi
  ORACLE_PYTHON="$venv/bin/python"
}
