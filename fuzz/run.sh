#!/usr/bin/env bash
# Fuzzes one target for a bounded time.
#   fuzz/run.sh [SECONDS] [TARGET]   (default 60 s, server_input)
# Targets: server_input (the server's handshake and message path), connection
# (the connection state machine alone), deflate_decode, deflate_negotiation,
# mp_godot3, mp_godot4, variant_decode.
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
# The corpus grows in fuzz/corpus/TARGET; a crash is written to
# fuzz/artifacts/TARGET/ — copy it into fuzz/regressions/TARGET/, where
# `cargo test -p wspeer-tests --test it fuzz_regressions` replays it forever
# (server_input, connection, deflate_decode, deflate_negotiation).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
target="${2:-server_input}"
mkdir -p "corpus/$target"
# Seed the corpus with the regression inputs (a valid session among them).
cp -n "regressions/$target"/* "corpus/$target/" 2>/dev/null || true
cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=1024 -timeout=10
