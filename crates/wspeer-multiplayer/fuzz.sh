#!/usr/bin/env bash
# Fuzzes the multiplayer codecs and state machines for a bounded time each.
#   crates/wspeer-multiplayer/fuzz.sh [SECONDS] [TARGET...]   (default 30 s; mp_godot4 mp_godot3)
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
# The corpus grows in fuzz/corpus/<target>; a crash is written to
# fuzz/artifacts/<target>/ — copy it into fuzz/regressions/<target>/, where
# `cargo test -p wspeer-multiplayer --test it fuzz_regressions` replays it forever.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"
seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(mp_godot4 mp_godot3)
fi
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    # Seed the corpus with the regression inputs (a valid session among them).
    cp -n "regressions/$target"/* "corpus/$target/" 2>/dev/null || true
    cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=1024 -timeout=10
done
