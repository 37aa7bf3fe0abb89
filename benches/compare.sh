#!/usr/bin/env bash
# One command: every measurement behind the zero-cost claim, then one table.
#
#   benches/compare.sh
#
# 1. installs what it needs: valgrind (apt-get), Powertools for AWS Lambda (Python) in
#    a virtualenv (benches/peers/python/.venv), Middy (npm ci in benches/peers/node);
# 2. instruction and allocation counts under callgrind (benches/instructions.sh);
# 3. criterion timings (benches/chain.rs);
# 4. the Python and Node.js peers (benches/peers/);
# 5. compile time of deep chains and release sizes (benches/scale.sh);
# 6. the table: variant, N, ns/invocation, instructions/invocation, allocations,
#    ratio to the limit, ns per middleware (benches/report.py).
#
# Timings are as noisy as the machine; instruction counts are repeatable.
# Environment: SKIP (any of: instructions criterion peers scale), FEATURES (cargo
# features for the Rust benches; default: the crate's tracing features).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-target}
results=$target_dir/bench-results
mkdir -p "$results"
skip() { [[ " ${SKIP:-} " == *" $1 "* ]]; }

features=()
for feature in xray opentelemetry; do
    grep -q "^$feature = " Cargo.toml && features+=("$feature")
done
FEATURES=${FEATURES-$(IFS=,; echo "${features[*]}")}
export FEATURES

echo "== installing"
if ! command -v valgrind >/dev/null; then
    apt-get update -qq && apt-get install -y -qq valgrind
fi
venv=benches/peers/python/.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r benches/peers/python/requirements.txt
(cd benches/peers/node && npm ci --silent --no-audit --no-fund)

if ! skip instructions; then
    echo "== instructions and allocations (callgrind)"
    OUT=$results/instructions.tsv benches/instructions.sh
fi

if ! skip criterion; then
    echo "== timings (criterion)"
    cargo bench --bench chain ${FEATURES:+--features "$FEATURES"}
    cp "$target_dir/criterion/summary.tsv" "$results/summary.tsv"
fi

if ! skip peers; then
    echo "== peers"
    {
        printf 'peer\tn\tns\n'
        "$venv/bin/python" benches/peers/python/bench.py
        node benches/peers/node/bench.mjs
    } | tee "$results/peers.tsv"
fi

if ! skip scale; then
    echo "== scale"
    benches/scale.sh | tee "$results/scale.txt"
fi

echo
echo "== on $(nproc) cores of $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(rustc --version)"
python3 benches/report.py "$results"
python3 benches/report.py "$results" --by-n
[ -f "$results/instructions.tsv.features" ] && {
    echo
    echo "untraced lambda-middleware, instructions per invocation with and without --features $FEATURES:"
    column -t -s $'\t' "$results/instructions.tsv.features"
}
[ -f "$results/scale.txt" ] && cat "$results/scale.txt"
echo
case $results in /*) ;; *) results=$root/$results ;; esac
echo "results in $results"
