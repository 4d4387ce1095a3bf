#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) and prints how many
# inputs each executed and whether it found anything.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs the nightly toolchain (rustup) and cargo-fuzz, which it installs
# from crates.io when missing. Builds once, in dev mode with debug
# assertions, into FUZZ_TARGET_DIR (default /var/tmp/ordergraph-fuzz-target),
# outside the clone. Seeds come from fuzz/seeds/<target>; what libFuzzer
# learns goes to fuzz/corpus/<target>; a crashing input lands in
# fuzz/artifacts/<target> and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-/var/tmp/ordergraph-fuzz-target}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
# Sanitizers off: the code under test is safe Rust, and coverage plus
# libFuzzer's own RSS limit and timeout are what find panics, hangs and
# runaway allocations.
flags=(--dev --sanitizer none --debug-assertions)
cargo +nightly fuzz build "${flags[@]}"
mkdir -p logs
failed=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "seeds/$target"
    log="logs/$target.log"
    if cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -print_final_stats=1 >"$log" 2>&1; then
        outcome=ok
    else
        outcome=FOUND
        failed=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
    printf '%-18s %-6s %12s executions  coverage %s  (%s s, log %s)\n' \
        "$target" "$outcome" "$runs" "$cov" "$seconds" "fuzz/$log"
done
exit $failed
