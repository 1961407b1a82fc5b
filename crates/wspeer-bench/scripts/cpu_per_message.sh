#!/usr/bin/env bash
# Alternating A/B rounds of one echo workload against servers started by the
# caller's commands, with the server's CPU per message read from /proc.
# Servers go on CPU 1, `wspeer-bench load` on CPU 0.
#
#   crates/wspeer-bench/scripts/cpu_per_message.sh ROUNDS 'LABEL=COMMAND [PORT]' ...
#
# Each COMMAND must listen on PORT (given after it, or printed as its first
# line of output when omitted, as `wspeer-bench server KIND 127.0.0.1:0` does).
# Set WSPEER_BENCH_PATH for servers with a single WebSocket route.
# Example (an axum route against wspeer's own Listener):
#   scripts/cpu_per_message.sh 3 \
#     'listener=target/release/examples/echo_async 127.0.0.1:9601 9601' \
#     'axum=env WSPEER_BENCH_PATH=/ws target/release/examples/axum_echo 9602 9602'
set -uo pipefail
cd "$(dirname "$0")/../../.."
BENCH=target/release/wspeer-bench
rounds=$1; shift
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
for round in $(seq 1 "$rounds"); do
  for shape in "100 20" "10 1024"; do
    read -r conns size <<<"$shape"
    for spec in "$@"; do
      label=${spec%%=*}; command=${spec#*=}
      port=${command##* }
      if [[ $port =~ ^[0-9]+$ ]]; then command=${command% *}; else port=; fi
      out=$(mktemp)
      # shellcheck disable=SC2086
      RUST_LOG=warn taskset -c 1 $command >"$out" 2>/dev/null &
      pid=$!
      trap "kill $pid 2>/dev/null" EXIT
      sleep 0.5
      [[ -n $port ]] || port=$(head -1 "$out")
      before=$(ticks "$pid")
      line=$(WSPEER_BENCH_PATH=${WSPEER_BENCH_PATH:-$(grep -o 'WSPEER_BENCH_PATH=[^ ]*' <<<"$command" | cut -d= -f2)} \
        taskset -c 0 "$BENCH" load --connect "127.0.0.1:$port" --connections "$conns" --size "$size" \
        --duration 5 --warmup 0 --no-pin 2>/dev/null | tail -1)
      after=$(ticks "$pid")
      kill "$pid"; wait "$pid" 2>/dev/null || true; rm -f "$out"
      rate=$(awk -F'|' '{print $4}' <<<"$line" | tr -d ' k')
      us=$(python3 -c "print(round(($after-$before)*10000/($rate*1000*5),2))")
      echo "round $round $label ${conns}x$size: ${rate}k msg/s, server $us us/msg"
    done
  done
done
