#!/usr/bin/env bash
# Creates the Python environment of the Python-driven tests: a virtualenv at .cache/python-venv
# holding the pinned OpenTelemetry Python SDK and OTLP/HTTP exporter of
# test/fixtures/python/requirements.txt (test/e2e/otel-python-sdk.test.ts), the schemathesis
# API fuzzer of test/fixtures/python/requirements-schemathesis.txt (test/e2e/schemathesis.test.ts)
# and confluent-kafka with its Avro deserializer of
# test/fixtures/python/requirements-subscriber.txt (examples/subscribers/count_detections.py,
# test/e2e/subscribers.test.ts). Prints the interpreter's path on stdout.
#
# A second virtualenv, .cache/python-compat-venv, holds the agent frameworks and
# instrumentations of test/fixtures/python/requirements-compat.txt (the producer compatibility
# suite, test/e2e/producers-compat.test.ts); their OpenTelemetry pins differ from
# requirements.txt, so they live apart. Built by the same run, not printed.
#
# Idempotent: an environment built from the same requirements files and base interpreter is
# reused as is; otherwise it is rebuilt from scratch.
#
#   scripts/python-env.sh [--quiet]
#
# Environment: PYTHON, the base interpreter (default python3); PIP_INDEX_URL and the other
# PIP_* variables are honoured by pip.
set -euo pipefail

quiet=0
for arg in "$@"; do
  case "$arg" in
    -q | --quiet) quiet=1 ;;
    -h | --help)
      sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "python-env: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/python-venv"
requirements=(
  "$root/test/fixtures/python/requirements.txt"
  "$root/test/fixtures/python/requirements-schemathesis.txt"
  "$root/test/fixtures/python/requirements-subscriber.txt"
)
compat_venv="$root/.cache/python-compat-venv"
python="${PYTHON:-python3}"

say() { [ "$quiet" = 1 ] || echo "python-env: $*" >&2; }
fail() {
  echo "python-env: $*" >&2
  exit 1
}

command -v "$python" >/dev/null 2>&1 ||
  fail "$python not found. Install Python 3.9 or newer (Debian/Ubuntu: apt-get install python3 python3-venv), or set PYTHON to an interpreter."
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
  fail "$("$python" --version 2>&1) is too old: the OpenTelemetry SDK needs Python 3.9 or newer."
# Debian and Ubuntu ship the venv module without ensurepip, so `python3 -m venv` fails
# half-way; python3-venv (or python3.X-venv) brings it.
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  fail "$python cannot create virtualenvs: the venv or ensurepip module is missing. On Debian/Ubuntu: apt-get install python3-venv (or python${version}-venv)."
fi

# What an environment was built from: its requirements files and the base interpreter.
fingerprint() {
  "$python" - "$@" <<'PY2'
import hashlib, sys
digest = hashlib.sha256()
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        digest.update(hashlib.sha256(f.read()).digest())
print(f"{digest.hexdigest()} {sys.version.split()[0]} {sys.base_prefix}")
PY2
}

mkdir -p "$root/.cache"
# One builder at a time (two test runs starting together); flock is in util-linux.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.cache/python-venv.lock"
  flock 9
fi

# build VENV CHECK REQUIREMENTS...: (re)creates VENV from the files unless its stamp matches,
# then runs the shell snippet CHECK (the environment's imports) before writing the stamp.
build() {
  local venv="$1" check="$2"
  shift 2
  local stamp="$venv/.tracefold-stamp" want
  want="$(fingerprint "$@")"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "up to date: $venv"
    return
  fi
  say "creating $venv from ${*##*/}"
  local started=$SECONDS
  rm -rf "$venv"
  "$python" -m venv "$venv" || fail "$python -m venv $venv failed (on Debian/Ubuntu install python3-venv)."
  local pip_quiet=()
  [ "$quiet" = 1 ] && pip_quiet=(--quiet)
  # One resolution over every file: pip refuses pins that disagree.
  local files=("$@")
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input "${pip_quiet[@]}" "${files[@]/#/--requirement=}" >&2 ||
    fail "pip could not install ${*##*/} into $venv (is PyPI reachable?)."
  eval "$check"
  printf '%s\n' "$want" >"$stamp"
  say "ready in $((SECONDS - started))s"
}

build "$venv" '
  "$venv/bin/python" -c "import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter" ||
    fail "the environment at $venv cannot import the OpenTelemetry SDK and exporter."
  "$venv/bin/schemathesis" --version >/dev/null ||
    fail "the environment at $venv has no working schemathesis command."
  "$venv/bin/python" -c "import confluent_kafka, confluent_kafka.schema_registry.avro" ||
    fail "the environment at $venv cannot import confluent-kafka and its Avro deserializer."
' "${requirements[@]}"

build "$compat_venv" '
  "$venv/bin/python" -c "import openai, agents, langgraph, langchain_openai, traceloop.sdk, pisama, openinference.instrumentation.openai, openinference.instrumentation.langchain, opentelemetry.instrumentation.openai_agents" ||
    fail "the environment at $venv cannot import the producers of requirements-compat.txt."
' "$root/test/fixtures/python/requirements-compat.txt"

echo "$venv/bin/python"
