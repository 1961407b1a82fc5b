#!/usr/bin/env bash
# Instructions per echoed message, from callgrind, for one echo workload against
# `wspeer-bench server KIND`: the count does not depend on how busy the machine
# is, so it compares builds where wall-clock rounds cannot.
#
#   crates/wspeer-bench/scripts/instructions_per_message.sh CONNS SIZE 'LABEL=BENCH_BINARY KIND' ...
#
# The counters are zeroed once the server is up and dumped after a 5 s load;
# messages are what the load generator counted in that window. Profiles stay in
# $WSPEER_CG_DIR (default /tmp/wspeer-cg) for callgrind_annotate.
set -uo pipefail
conns=$1 size=$2; shift 2
dir=${WSPEER_CG_DIR:-/tmp/wspeer-cg}
mkdir -p "$dir"
for spec in "$@"; do
  label=${spec%%=*}; read -r bench kind <<<"${spec#*=}"
  out="$dir/$label.$conns.$size"
  rm -f "$out".callgrind*
  valgrind --tool=callgrind --callgrind-out-file="$out.callgrind" \
    "$bench" server "$kind" 127.0.0.1:0 --no-pin >"$out.port" 2>/dev/null &
  pid=$!
  for _ in $(seq 300); do [[ -s $out.port ]] && break; sleep 0.1; done
  port=$(head -1 "$out.port")
  raw=; [[ $kind == raw-tcp ]] && raw=--raw
  callgrind_control -z "$pid" >/dev/null 2>&1
  line=$("$bench" load --connect "127.0.0.1:$port" $raw --connections "$conns" --size "$size" \
    --duration 5 --warmup 0 --no-pin 2>/dev/null | tail -1)
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null
  rate=$(awk -F'|' '{print $4}' <<<"$line" | tr -d ' ')
  case $rate in *k) rate=$(awk "BEGIN{print ${rate%k}*1000}");; esac
  ir=$(grep -h '^summary:' "$out".callgrind.* 2>/dev/null | awk '{s+=$2} END{print s}')
  awk -v l="$label" -v k="$kind" -v ir="$ir" -v r="$rate" \
    'BEGIN{m=r*5; printf "%s (%s): %.0f messages, %.0f instructions per message\n", l, k, m, (m>0? ir/m : 0)}'
done
