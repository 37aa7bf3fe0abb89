#!/usr/bin/env bash
# Instructions per cache hit of lambda_middleware::parameters (benches/parameters.rs),
# counted under callgrind: each case runs K and 2K hits in its own process, collecting
# inside the loop only; (count(2K) - count(K)) / K cancels the set-up.
#
#   benches/parameters.sh            every case (get_with, get, load)
#
# Environment: K (default 1000).
set -euo pipefail
cd "$(dirname "$0")/.."

K=${K:-1000}
if ! command -v valgrind >/dev/null; then
    echo "valgrind is missing: apt-get install valgrind" >&2
    exit 1
fi
bin=$(cargo bench --bench parameters --features parameters --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # case hits -> instructions
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" --toggle-collect='*hits*' \
        "$bin" run "$1" "$2" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
    sed -n 's/^summary: //p' "$tmp/out"
}

printf 'case\tinstructions per cache hit\n'
for case in get_with get load; do
    one=$(count "$case" "$K")
    two=$(count "$case" $((2 * K)))
    printf '%s\t%s\n' "$case" $(((two - one) / K))
done
"$bin"
