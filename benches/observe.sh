#!/usr/bin/env bash
# Instructions and allocations per log line and per invocation with metrics, counted
# under callgrind (repeatable on a noisy machine, unlike the times of
# `cargo bench --bench observe`).
#
#   benches/observe.sh                  every case of benches/observe.rs
#   CASES="log-json metrics" benches/observe.sh
#
# Each case runs twice in its own process, K and 2K times, with callgrind collecting
# inside the measured function only; (count(2K) - count(K)) / K cancels what happens
# once (the subscriber, the handler, the first call's lazy set-up).
set -euo pipefail
cd "$(dirname "$0")/.."

K=${K:-1000}
if ! command -v valgrind >/dev/null; then
    echo "valgrind is missing: apt-get install valgrind" >&2
    exit 1
fi

bin=$(cargo bench --bench observe --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bin" ] || { echo "could not build benches/observe.rs" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # case iterations -> instructions
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" --toggle-collect='*run_counted*' \
        "$bin" count "$1" "$2" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
    sed -n 's/^summary: //p' "$tmp/out"
}

printf '%-14s %14s   %s\n' case instructions what
"$bin" list | while IFS=$'\t' read -r case what; do
    [ -z "${CASES:-}" ] || [[ " $CASES " == *" $case "* ]] || continue
    one=$(count "$case" "$K")
    two=$(count "$case" $((2 * K)))
    awk -v one="$one" -v two="$two" -v k="$K" -v c="$case" -v w="$what" 'BEGIN { printf "%-14s %14.1f   %s\n", c, (two - one) / k, w }'
done
