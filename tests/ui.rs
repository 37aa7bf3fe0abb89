//! What the compiler refuses: one file in `tests/ui/` per promise, each with the error
//! a user gets in its `.stderr`. Regenerate those with `TRYBUILD=overwrite cargo test
//! --test ui` after a compiler upgrade, and read them before committing.

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}

/// `Idempotent`'s promises, with its feature.
#[cfg(feature = "idempotency")]
#[test]
fn idempotency_compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/idempotency/*.rs");
}
