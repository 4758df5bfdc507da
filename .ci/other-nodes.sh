#!/usr/bin/env bash
# The suite on the other supported Node versions (22, 24), after `npm test` ran it in full on the
# machine's Node: the tests without Docker (the one shared engine already served the full pass),
# then the README's main command, whose envelope must be the golden bytes on every version.
# Expects a built tree (npm test builds it).
set -euo pipefail
cd "$(dirname "$0")/.."

inputs='{"schema":"v1","params":{"messages":[{"role":"user","content":"Hello"}]}}'
# Both by default; PROCCTL_OTHER_NODES="24" narrows a local run to one.
for major in ${PROCCTL_OTHER_NODES:-24 22}; do
  node_bin=$(bash .ci/node.sh "$major")
  echo "::: Node $("$node_bin" --version): tests without Docker [${SECONDS}s]" >&2
  "$node_bin" scripts/run-tests.mjs --node "$node_bin" --no-docker
  echo "::: Node $("$node_bin" --version): README main command [${SECONDS}s]" >&2
  work=$(mktemp -d)
  (cd "$work" && "$node_bin" "$OLDPWD/dist/src/cli/procctl.js" run --ref llm/litellm@1 --inputs-json "$inputs" --execution-id golden-1 --json) >"$work/envelope.json"
  cmp "$work/envelope.json" test/golden/litellm-mock-hello.envelope.json
  rm -rf "$work"
done
