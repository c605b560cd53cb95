#!/usr/bin/env bash
# npm run test:e2e: install the real tools, then feed them our outputs.
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "export $(bash scripts/e2e/install-tools.sh | tail -n 1)"
# A test may take 20 s, as in npm test: buildx bake --print of the largest fixture (github-job-cap) took 5.4 s in a clean-clone run.
exec bun test --timeout 20000 ./scripts/e2e/real-tools.e2e.ts ./scripts/e2e/engines.e2e.ts ./scripts/e2e/gitlab.e2e.ts ./scripts/e2e/buildkite.e2e.ts ./scripts/e2e/scale.e2e.ts ./scripts/e2e/prune.e2e.ts ./scripts/e2e/secrets-ci.e2e.ts ./scripts/e2e/signing.e2e.ts ./scripts/e2e/signing-ci.e2e.ts ./scripts/e2e/annotations.e2e.ts
