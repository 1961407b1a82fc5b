#!/usr/bin/env bash
# Fuzzes the server's handshake and message path for a bounded time.
#   fuzz/run.sh [SECONDS]   (default 60)
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
# The corpus grows in fuzz/corpus/server_input; a crash is written to
# fuzz/artifacts/server_input/ — copy it into fuzz/regressions/server_input/,
# where `cargo test -p wspeer-tests --test fuzz_regressions` replays it forever.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
mkdir -p corpus/server_input
# Seed the corpus with the regression inputs (a valid session among them).
cp -n regressions/server_input/* corpus/server_input/ 2>/dev/null || true
cargo +nightly fuzz run server_input corpus/server_input -- \
    -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=1024 -timeout=10
