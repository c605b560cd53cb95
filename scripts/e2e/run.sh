#!/usr/bin/env bash
# npm run test:e2e: install the real tools, then feed them our outputs.
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "export $(bash scripts/e2e/install-tools.sh | tail -n 1)"
exec bun test ./scripts/e2e/real-tools.e2e.ts ./scripts/e2e/engines.e2e.ts ./scripts/e2e/gitlab.e2e.ts
