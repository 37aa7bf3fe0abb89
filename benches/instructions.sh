#!/usr/bin/env bash
# Instructions and heap allocations per invocation of every workload of
# benches/workload, counted under callgrind: repeatable on a noisy machine, unlike
# timings.
#
#   benches/instructions.sh                       every payload, variant and depth
#   PAYLOADS=u64 VARIANTS="limit lambda-middleware" benches/instructions.sh
#   benches/instructions.sh profile json lambda-middleware 10
#                                                 one workload's instructions by function
#
# Each workload runs twice in its own process, K and 2K invocations, with callgrind
# collecting inside the measured loop only; (count(2K) - count(K)) / K cancels
# everything that happens once (building the chain, the first call's lazy set-up).
#
# Environment: K (default 1000), PAYLOADS (json struct u64), VARIANTS (all),
# FEATURES (cargo features for the bench; default: the tracing ones the crate has),
# OUT (the TSV written; default $CARGO_TARGET_DIR/bench-results/instructions.tsv).
set -euo pipefail
cd "$(dirname "$0")/.."

K=${K:-1000}
target_dir=${CARGO_TARGET_DIR:-target}
OUT=${OUT:-$target_dir/bench-results/instructions.tsv}
mkdir -p "$(dirname "$OUT")"

if ! command -v valgrind >/dev/null; then
    echo "valgrind is missing: apt-get install valgrind (benches/compare.sh installs it)" >&2
    exit 1
fi

# The crate's tracing features, when it has them: the X-Ray variant needs `xray`.
tracing_features() {
    local features=()
    for feature in xray opentelemetry; do
        grep -q "^$feature = " Cargo.toml && features+=("$feature")
    done
    local IFS=,
    echo "${features[*]}"
}
FEATURES=${FEATURES-$(tracing_features)}

build() { # features -> path of the bench binary
    local args=(bench --bench instructions --no-run --message-format=json)
    [ -n "$1" ] && args+=(--features "$1")
    cargo "${args[@]}" 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# `count BIN PAYLOAD VARIANT N ITERATIONS` -> "instructions allocations"
count() {
    local bin=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out" \
        --toggle-collect='*run_loop*' "$bin" run "$@" >"$tmp/stdout" 2>"$tmp/stderr" || {
        cat "$tmp/stderr" >&2
        return 1
    }
    echo "$(sed -n 's/^summary: //p' "$tmp/callgrind.out") $(sed -n 's/^allocations\t//p' "$tmp/stdout")"
}

# `per_invocation BIN PAYLOAD VARIANT N` -> "instructions allocations" per invocation
per_invocation() {
    local one two
    one=$(count "$@" "$K")
    two=$(count "$@" $((2 * K)))
    awk -v one="$one" -v two="$two" -v k="$K" 'BEGIN {
        split(one, a, " "); split(two, b, " ");
        printf "%.1f %.2f\n", (b[1] - a[1]) / k, (b[2] - a[2]) / k }'
}

wanted() { # list value -> true when the list is empty or holds the value
    [ -z "$1" ] || [[ " $1 " == *" $2 "* ]]
}

echo "building the workloads${FEATURES:+ with --features $FEATURES}..." >&2
bin=$(build "$FEATURES")
[ -x "$bin" ] || { echo "could not build benches/instructions.rs" >&2; exit 1; }

# `profile PAYLOAD VARIANT N`: where one workload's instructions go, by function
# (callgrind_annotate's table, for K invocations).
if [ "${1:-}" = profile ]; then
    shift
    valgrind --tool=callgrind --callgrind-out-file="$tmp/profile.out" \
        --toggle-collect='*run_loop*' "$bin" run "$@" "$K" >/dev/null 2>"$tmp/stderr" || {
        cat "$tmp/stderr" >&2
        exit 1
    }
    echo "instructions of $K invocations of $*, by function:"
    callgrind_annotate "$tmp/profile.out" | sed -n '/^Ir  *file:function/,$p' | head -n 25
    exit 0
fi

printf 'payload\tvariant\tn\tinstructions\tallocations\n' >"$OUT"
"$bin" list | while IFS=$'\t' read -r payload variant n; do
    wanted "${PAYLOADS:-}" "$payload" && wanted "${VARIANTS:-}" "$variant" || continue
    read -r instructions allocations < <(per_invocation "$bin" "$payload" "$variant" "$n")
    printf '%s\t%s\t%s\t%s\t%s\n' "$payload" "$variant" "$n" "$instructions" "$allocations" | tee -a "$OUT" >&2
done

# Untraced middleware must cost the same whether or not the tracing features are
# compiled in: count the untraced chain again in a build without them.
if [ -n "$FEATURES" ] && wanted "${VARIANTS:-}" lambda-middleware; then
    echo "building the workloads without features..." >&2
    plain=$(build "")
    printf 'payload\tn\twith %s\twithout\n' "$FEATURES" >"$OUT.features"
    awk -F'\t' '$2 == "lambda-middleware" { print $1 "\t" $3 "\t" $4 }' "$OUT" |
        while IFS=$'\t' read -r payload n with; do
            read -r without _ < <(per_invocation "$plain" "$payload" lambda-middleware "$n")
            printf '%s\t%s\t%s\t%s\n' "$payload" "$n" "$with" "$without" >>"$OUT.features"
        done
fi

# The table: ratios to the limit and to the one-async-fn hand-written version, and
# instructions per middleware over the handler alone.
awk -F'\t' '
    NR == 1 { next }
    { key = $1 SUBSEP $2 SUBSEP $3; instr[key] = $4; alloc[key] = $5; rows[++n] = key }
    END {
        printf "%-7s %-30s %3s %12s %8s %9s %11s %7s\n", "event", "variant", "N",
            "instr/inv", "vs limit", "vs async", "instr/mw", "allocs"
        for (i = 1; i <= n; i++) {
            split(rows[i], k, SUBSEP)
            limit = instr[k[1] SUBSEP "limit" SUBSEP k[3]]
            async = instr[k[1] SUBSEP "one-async-fn" SUBSEP k[3]]
            bare = instr[k[1] SUBSEP "handler" SUBSEP 0]
            printf "%-7s %-30s %3s %12.1f %8s %9s %11s %7s\n", k[1], k[2], k[3], instr[rows[i]],
                (limit && k[3] > 0) ? sprintf("%.2fx", instr[rows[i]] / limit) : "-",
                (async && k[3] > 0) ? sprintf("%.2fx", instr[rows[i]] / async) : "-",
                (bare != "" && k[3] > 0) ? sprintf("%.1f", (instr[rows[i]] - bare) / k[3]) : "-",
                alloc[rows[i]]
        }
    }' "$OUT"
if [ -f "$OUT.features" ]; then
    echo
    echo "untraced lambda-middleware, instructions per invocation with and without the tracing features:"
    column -t -s $'\t' "$OUT.features"
fi
echo "written to $OUT" >&2
