#!/usr/bin/env bash
# Instructions per record of the batch processor and of a hand-written loop over the
# same records (benches/batch.rs), counted under callgrind: each variant runs K and 2K
# batches of 100 records in its own process, and
#   (count(2K) - count(K) - (events(2K) - events(K))) / (100 K)
# cancels what happens once and the building of the events.
#
#   benches/batch.sh            every variant; K (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."

K=${K:-50}
RECORDS=100
target_dir=${CARGO_TARGET_DIR:-target}

if ! command -v valgrind >/dev/null; then
    echo "valgrind is missing: apt-get install valgrind" >&2
    exit 1
fi

cargo bench --bench batch --features sqs --no-run >/dev/null 2>&1
binary=$(ls -t "$target_dir"/release/deps/batch-* | grep -v '\.d$' | head -1)

count() {
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" run "$1" "$2" >/dev/null 2>&1
    grep '^summary:' "$out" | awk '{ print $2 }'
    rm -f "$out"
}

events_k=$(count events "$K")
events_2k=$(count events $((2 * K)))
printf 'variant\tinstructions per record\n'
for variant in loop-fn loop-handler batch batch-concurrent loop-parse batch-parse batch-parse-typed; do
    one=$(count "$variant" "$K")
    two=$(count "$variant" $((2 * K)))
    awk -v a="$one" -v b="$two" -v ea="$events_k" -v eb="$events_2k" -v n=$((RECORDS * K)) -v v="$variant" \
        'BEGIN { printf "%s\t%.0f\n", v, ((b - a) - (eb - ea)) / n }'
done
