#!/usr/bin/env bash
# Crash soak: the crash test of server/tests/it/crash.rs with many kill
# points (SIGKILL of the real server during concurrent ingest, restart,
# check acknowledged == present, no torn request, MCIDs unchanged).
#   benches/soak/crash.sh            # 50 rounds
#   ROUNDS=500 benches/soak/crash.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/ordergraph-target}"
CRASH_ROUNDS="${ROUNDS:-50}" cargo test --workspace --test it -- crash --nocapture
