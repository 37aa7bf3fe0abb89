#!/usr/bin/env bash
# Scale: the compile time of chains of 8, 32 and 64 middlewares, and the release size
# of the no-params example next to a plain lambda_runtime hello world.
#
#   benches/scale.sh            prints two small tables
#
# Each measurement is a throwaway crate in a temporary directory that depends on this
# crate by path; they share one target directory, so dependencies are built once
# (before any timing) and each timing is `cargo build --release` of the crate itself.
# Environment: DEPTHS (default "8 32 64"), SCALE_DIR (default: a new temporary dir).
set -euo pipefail
cd "$(dirname "$0")/.."
crate=$(pwd)
DEPTHS=${DEPTHS:-8 32 64}
work=${SCALE_DIR:-$(mktemp -d)}
export CARGO_TARGET_DIR=$work/target
mkdir -p "$work"

# lambda_runtime and tokio as this crate uses them, so both binaries link the same.
runtime_dep='lambda_runtime = { version = "1.5", default-features = false, features = ["tracing", "concurrency-tokio"] }'
tokio_dep='tokio = { version = "1", features = ["macros", "rt-multi-thread"] }'

new_crate() { # name, extra dependency lines
    mkdir -p "$work/$1/src"
    cat >"$work/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
lambda-middleware = { path = "$crate" }
$runtime_dep
$tokio_dep
serde_json = "1"
$2

[workspace]
TOML
}

# A chain of N distinct middlewares (`Layer<0>` … `Layer<N-1>`), as tests/deep_chain.rs
# builds it, run once. With "generic" as the second argument, the middleware is generic
# over its event and response (`impl<E, R> Middleware<E, R>`, as in
# tests/deep_generic_chain.rs); otherwise it is written for `u64`.
chain_main() {
    echo '#![recursion_limit = "512"]'
    cat <<'RS'
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};

struct Layer<const N: u64>;

RS
    if [ "${2:-}" = generic ]; then
        cat <<'RS'
trait Bump: Send + Sync + 'static {
    fn bump(self, by: u64) -> Self;
}

impl Bump for u64 {
    fn bump(self, by: u64) -> Self {
        self + by
    }
}

impl<E: Bump, R: Bump, const N: u64> Middleware<E, R> for Layer<N> {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: E, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        let response = next.run(event.bump(1)).await?;
        Ok(response.map(|response| response.bump(N)))
    }
}
RS
    else
        cat <<'RS'
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
RS
    fi
    cat <<'RS'

async fn handler(event: u64, _: &Context) -> Result<u64, Error> {
    Ok(event)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let handler = Handler::builder()
RS
    for ((i = 0; i < $1; i++)); do echo "        .middleware(Layer::<$i>)"; done
    cat <<'RS'
        .handler(handler)?;
    println!("{}", handler.invoke_with(0, &Context::default()).await?);
    Ok(())
}
RS
}

seconds() { # command... -> wall seconds
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/build.log" || { cat "$work/build.log" >&2; return 1; }
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }'
}

echo "building dependencies once (release)..." >&2
new_crate chain ""
chain_main 1 >"$work/chain/src/main.rs"
(cd "$work/chain" && cargo build --release --quiet)

echo
echo "compile time of one chain (cargo build --release of the crate alone):"
printf '%-8s %-9s %10s %s\n' "layers" "kind" "seconds" "output"
for n in $DEPTHS; do
    for kind in concrete generic; do
        chain_main "$n" "$kind" >"$work/chain/src/main.rs"
        secs=$(cd "$work/chain" && seconds cargo build --release)
        out=$("$CARGO_TARGET_DIR/release/chain")
        printf '%-8s %-9s %10s %s\n' "$n" "$kind" "$secs" "$out"
    done
done

# The no-params example, as a crate of its own, and a hello world with lambda_runtime alone.
example=examples/middleware_no_params.rs
[ -f "$example" ] || example=$(ls examples/*.rs | head -n 1)
new_crate no-params ""
sed "s|include_str!(\"events/|include_str!(\"$crate/examples/events/|" "$example" >"$work/no-params/src/main.rs"
mkdir -p "$work/hello/src"
cat >"$work/hello/Cargo.toml" <<TOML
[package]
name = "hello"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$runtime_dep
$tokio_dep
serde_json = "1"

[workspace]
TOML
cat >"$work/hello/src/main.rs" <<'RS'
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "statusCode": 200, "body": event.payload.to_string() }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
RS
(cd "$work/no-params" && cargo build --release --quiet)
(cd "$work/hello" && cargo build --release --quiet)

size_of() { stat -c %s "$1"; }
stripped() { strip -o "$work/stripped" "$1" && size_of "$work/stripped"; }
echo
echo "release size (bytes; the same dependencies and profile):"
printf '%-40s %12s %12s\n' "binary" "as built" "stripped"
for name in hello no-params; do
    bin=$CARGO_TARGET_DIR/release/$name
    label=$([ "$name" = hello ] && echo "lambda_runtime hello world" || echo "$(basename "$example" .rs) example")
    printf '%-40s %12s %12s\n' "$label" "$(size_of "$bin")" "$(stripped "$bin")"
done
