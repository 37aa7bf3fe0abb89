//! What the compiler refuses: one file in `tests/ui/` per promise, each with the error
//! a user gets in its `.stderr`. Regenerate those with `TRYBUILD=overwrite cargo test
//! --test ui` after a compiler upgrade, and read them before committing.

/// Not with `ssm`: aws-sdk-ssm has enum variants named `String` (`ParameterType::String`),
/// and with a second item of that name in the build rustc spells `String` in full
/// (`std::string::String`) in every message. The cases run in every build without it
/// (`cargo test --workspace`, as `.ci/run` does).
#[cfg(not(feature = "ssm"))]
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

/// Cases whose messages list the middlewares of the crate, which depend on the
/// features: their `.stderr` is the one with every feature on (the README's test
/// command), and without them they do not run.
#[cfg(all(feature = "idempotency", feature = "http", feature = "sqs", feature = "validation"))]
#[test]
fn compile_fail_with_every_feature() {
    trybuild::TestCases::new().compile_fail("tests/ui/all_features/*.rs");
}

/// The audit of first error lines (`tests/ui/README.md`, also the guide's "What the
/// compiler refuses") is the one rustc prints: every case has a row, every row's line
/// is the first `error` line of its `.stderr`, and the counts in the text add up.
#[test]
fn the_audit_matches_the_messages() {
    let audit = std::fs::read_to_string("tests/ui/README.md").unwrap();
    let mut rows = Vec::new();
    for line in audit.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        assert_eq!(cells.len(), 5, "a row of five cells: {line}");
        let case = cells[0].trim_start_matches("| `").trim_end_matches('`').to_owned();
        let first = cells[2]
            .trim_start_matches("`` ")
            .trim_end_matches(" ``")
            .replace("\\|", "|");
        let stderr = std::fs::read_to_string(format!("tests/ui/{case}.stderr"))
            .unwrap_or_else(|error| panic!("tests/ui/{case}.stderr: {error}"));
        let printed = stderr.lines().find(|line| line.starts_with("error")).unwrap();
        assert_eq!(first, printed, "the first error line of {case}");
        assert!(["yes", "partly", "no"].contains(&cells[3]), "a verdict for {case}");
        rows.push((case, cells[3].to_owned()));
    }
    let mut cases = Vec::new();
    for dir in ["tests/ui", "tests/ui/all_features", "tests/ui/idempotency"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|extension| extension == "rs") {
                let case = path.strip_prefix("tests/ui").unwrap().with_extension("");
                cases.push(case.to_str().unwrap().to_owned());
            }
        }
    }
    let mut listed: Vec<String> = rows.iter().map(|(case, _)| case.clone()).collect();
    listed.sort();
    cases.sort();
    assert_eq!(listed, cases, "one row per compile-fail case");
    let count = |verdict: &str| rows.iter().filter(|(_, v)| v == verdict).count();
    let summary = format!(
        "Of {} cases, {} say it plainly, {} in part",
        rows.len(),
        count("yes"),
        count("partly")
    );
    assert!(audit.replace('\n', " ").contains(&summary), "the text says: {summary}");
}
