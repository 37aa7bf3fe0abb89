#!/usr/bin/env bash
# What a cargo feature costs to build: the crates it adds to the default build, and the
# time of a cold `cargo build` of the crate with it, each in a fresh target directory
# (nothing built before; the registry's sources already downloaded).
#
#   benches/feature_build.sh idempotency dynamodb     one line per build, default first
#
# Environment: PROFILE (default: dev; `release` for `cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-dev}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

crates() { # the distinct crates of the normal dependency tree, this one included
    cargo tree -e normal --prefix none "$@" | sed 's/ (\*)//' | sort -u | wc -l
}

cold_build() { # label, cargo arguments...
    local label=$1 start end
    shift
    start=$(date +%s%N)
    CARGO_TARGET_DIR="$work/$label" cargo build --quiet --profile "$profile" "$@"
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

cargo fetch --quiet
base_crates=$(crates)
base_ms=$(cold_build default)
seconds() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
printf '%-12s %4d crates        cold build %6s s\n' default "$base_crates" "$(seconds "$base_ms")"
for feature in "$@"; do
    n=$(crates --features "$feature")
    ms=$(cold_build "$feature" --features "$feature")
    printf '%-12s %4d crates (+%d)  cold build %6s s (+%s s)\n' "$feature" "$n" $((n - base_crates)) \
        "$(seconds "$ms")" "$(seconds $((ms - base_ms)))"
done
