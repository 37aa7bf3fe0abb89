#!/usr/bin/env bash
# Depth: which chains compile under which `#![recursion_limit]`.
#
#   benches/depth.sh        prints a table: layers, recursion_limit, compiles or not;
#                           then the deepest chain that compiles with rustc's default
#                           limit, and the lowest limit that compiles 64 layers
#
# Each row is `cargo build` of a throwaway crate (in a temporary directory, depending on
# this crate by path) whose `main` builds a chain of N distinct middlewares, as
# tests/depth_16.rs and tests/deep_chain.rs do, and awaits it through every entry point:
# `Handler::invoke_with`, `Handler::invoke` and `tower::Service::call`.
# Environment: DEPTH_DIR (default: a new temporary dir).
set -euo pipefail
cd "$(dirname "$0")/.."
crate=$(pwd)
work=${DEPTH_DIR:-$(mktemp -d)}
export CARGO_TARGET_DIR=$work/target
mkdir -p "$work/depth/src"

cat >"$work/depth/Cargo.toml" <<TOML
[package]
name = "depth"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
lambda-middleware = { path = "$crate" }
lambda_runtime = { version = "1.5", default-features = false, features = ["tracing", "concurrency-tokio"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
tower = "0.5"

[workspace]
TOML

main_rs() { # layers, recursion_limit ("" for rustc's default, 128)
    [ -n "$2" ] && echo "#![recursion_limit = \"$2\"]"
    cat <<'RS'
use lambda_middleware::{Context, Error, Handler, Invoke, LambdaEvent, Middleware, Next, Proceeded};
use tower::Service;

struct Layer<const N: u64>;

impl<const N: u64> Middleware<u64, u64> for Layer<N> {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: u64, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, u64>, Error>
    where
        I: Invoke<u64, Response = u64>,
    {
        let response = next.run(event + 1).await?;
        Ok(response.map(|response| response + N))
    }
}

async fn borrowing(event: u64, _: &Context) -> Result<u64, Error> {
    Ok(event)
}

async fn owning(event: LambdaEvent<u64>) -> Result<u64, Error> {
    Ok(event.payload)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
RS
    for handler in borrowing owning; do
        echo "    let mut $handler = Handler::builder()"
        for ((i = 0; i < $1; i++)); do echo "        .middleware(Layer::<$i>)"; done
        echo "        .handler($handler)?;"
    done
    cat <<'RS'
    let ctx = Context::default();
    let a = borrowing.invoke_with(0, &ctx).await?;
    let b = owning.invoke(LambdaEvent::new(0, ctx.clone())).await?;
    let c = borrowing.call(LambdaEvent::new(0, ctx.clone())).await?;
    let d = owning.call(LambdaEvent::new(0, ctx)).await?;
    println!("{a} {b} {c} {d}");
    Ok(())
}
RS
}

compiles() { # layers, recursion_limit -> status
    main_rs "$1" "$2" >"$work/depth/src/main.rs"
    (cd "$work/depth" && cargo build --quiet >/dev/null 2>"$work/build.log")
}

echo "building dependencies once..." >&2
main_rs 1 "" >"$work/depth/src/main.rs"
(cd "$work/depth" && cargo build --quiet)

printf '%-8s %-16s %s\n' "layers" "recursion_limit" "compiles"
for row in "16 " "64 256" "64 512"; do
    read -r layers limit <<<"$row"
    if compiles "$layers" "$limit"; then result=yes; else result="no: $(grep -m1 -o 'queries overflow the depth limit!\|error[^:]*: [^\n]*' "$work/build.log" || true)"; fi
    printf '%-8s %-16s %s\n' "$layers" "${limit:-default (128)}" "$result"
done

# The deepest chain that compiles with the default limit, by bisection between 16
# (the depth tests/depth_16.rs promises) and 64.
low=16 high=64
compiles "$low" "" || { echo "16 layers do not compile with the default limit" >&2; exit 1; }
while ((high - low > 1)); do
    mid=$(((low + high) / 2))
    if compiles "$mid" ""; then low=$mid; else high=$mid; fi
done
echo "the deepest chain that compiles with the default recursion_limit has $low layers"

# The lowest limit that compiles 64 layers, by bisection between rustc's default and 512.
low=128 high=512
compiles 64 "$high" || { echo "64 layers do not compile with $high either" >&2; exit 1; }
while ((high - low > 1)); do
    mid=$(((low + high) / 2))
    if compiles 64 "$mid"; then high=$mid; else low=$mid; fi
done
echo "64 layers need a recursion_limit of at least $high"
