#!/usr/bin/env bash
# Regenerates src/ingest/otlp/proto-descriptor.ts from the OTLP .proto files under proto/
# (see proto/README.md). Deterministic: the same .proto files give the same output.
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx tsx src/ingest/otlp/proto-codegen.ts
