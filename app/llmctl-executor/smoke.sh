#!/usr/bin/env bash
# Smoke-test an llmctl-executor image: run it with real payloads and check the results.
#
#   IMAGE_NAME=llmctl-executor:latest app/llmctl-executor/smoke.sh
#
# Checks: start markers and one result line; success, failure and timeout map to status and exit
# code; a payload on stdin; the result file; an invalid payload; the Claude CLI when the image
# was built with INSTALL_CLAUDE=true. Prints one line per check and "smoke: N passed, 0 failed".
set -euo pipefail

IMAGE_NAME=${IMAGE_NAME:-llmctl-executor:latest}
passed=0
fail() { echo "smoke: FAIL: $*" >&2; echo "smoke: $passed passed, 1 failed" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "smoke: ok - $*"; }

docker image inspect "$IMAGE_NAME" >/dev/null 2>&1 || fail "image $IMAGE_NAME not found; build it with app/llmctl-executor/build-executor.sh"

# run_case EXPECTED_EXIT DOCKER_ARGS... -- EXECUTOR_ARGS...; sets $out to the container's stdout.
run_case() {
  local expected=$1; shift
  local docker_args=() code=0
  while [ "$1" != -- ]; do docker_args+=("$1"); shift; done
  shift
  out=$(docker run --rm --network none "${docker_args[@]}" "$IMAGE_NAME" "$@" 2>/tmp/llmctl-smoke-stderr.$$) || code=$?
  [ "$code" = "$expected" ] || fail "expected exit $expected, got $code; stdout: $out; stderr: $(cat /tmp/llmctl-smoke-stderr.$$)"
  rm -f /tmp/llmctl-smoke-stderr.$$
}

# check JS_EXPRESSION: evaluated with `r` = the parsed result and `lines` = stdout lines.
check() {
  node -e '
    const lines = require("fs").readFileSync(0, "utf8").trimEnd().split("\n");
    const last = lines.at(-1);
    const prefix = "LLMCTL_EXECUTOR_RESULT_JSON=";
    if (!last.startsWith(prefix)) { console.error("last line is not a result line: " + last); process.exit(1); }
    const r = JSON.parse(last.slice(prefix.length));
    if (!('"$1"')) { console.error("check failed: " + process.argv[1] + "\n" + JSON.stringify(r, null, 1)); process.exit(1); }
  ' "$1" <<<"$out" || fail "$2"
  ok "$2"
}

run_case 0 -- --payload-json '{"contract_version":"v1","provider":"docker","shell_command":"echo smoke-ok; echo to-stderr >&2","request_id":"smoke-1"}'
check 'lines.length === 3 && lines[0] === "LLMCTL_EXECUTOR_STARTED" && JSON.parse(lines[1]).event === "executor_started"' "start markers then one result line"
check 'r.status === "success" && r.exit_code === 0 && r.stdout === "smoke-ok\n" && r.stderr === "to-stderr\n" && r.request_id === "smoke-1"' "shell_command success"

run_case 3 -- --payload-json '{"contract_version":"v1","provider":"docker","command":["bash","-c","exit 3"],"emit_start_markers":false}'
check 'r.status === "failed" && r.exit_code === 3 && lines.length === 1' "non-zero exit is failed, exit code mirrored"

run_case 124 -e LLMCTL_EXECUTOR_KILL_GRACE_SECONDS=1 -- --payload-json '{"contract_version":"v1","provider":"docker","shell_command":"sleep 60","timeout_seconds":1}'
check 'r.status === "timeout" && r.exit_code === 124' "timeout stops the command, exit 124"

out=$(echo '{"contract_version":"v1","provider":"docker","command":["bash","-c","echo via-stdin"]}' |
  docker run --rm -i --network none "$IMAGE_NAME") || fail "payload on stdin: container exited non-zero: $out"
check 'r.status === "success" && r.stdout === "via-stdin\n" && r.provider_metadata.payload_source === "stdin"' "payload on stdin"

outdir=$(mktemp -d /tmp/llmctl-smoke.XXXXXX)
trap 'rm -rf "$outdir"' EXIT
chmod 0777 "$outdir"
run_case 0 -v "$outdir:/out" -- --payload-json '{"contract_version":"v1","provider":"docker","command":["true"]}' --output-file /out/result.json
[ -f "$outdir/result.json" ] || fail "result file not written"
node -e 'const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const b = JSON.parse(process.argv[2].trimEnd().split("\n").at(-1).slice(28)); if (JSON.stringify(a) !== JSON.stringify(b)) process.exit(1)' \
  "$outdir/result.json" "$out" || fail "result file differs from the result line"
ok "result file equals the result line"

run_case 2 -- --payload-json '{"contract_version":"v1","provider":"docker","command":[]}'
check 'r.status === "infra_error" && r.error.code === "invalid_payload" && /command/.test(r.error.message)' "invalid payload is infra_error naming the field"

if [ "$(docker image inspect -f '{{index .Config.Labels "procctl.executor.install-claude"}}' "$IMAGE_NAME")" = true ]; then
  run_case 0 -- --payload-json '{"contract_version":"v1","provider":"docker","command":["claude","--version"]}'
  check 'r.status === "success" && /Claude Code/.test(r.stdout)' "claude CLI runs (INSTALL_CLAUDE=true)"
fi

echo "smoke: $passed passed, 0 failed"
