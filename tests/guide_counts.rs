//! The line counts the guide "writing middlewares" and the README quote for the
//! checkout middleware, recounted from the code they show: non-blank, non-comment lines.

fn counted(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .count()
}

/// The fenced block right after `<!-- counted: name -->` in `page`.
fn block<'a>(page: &'a str, name: &str) -> &'a str {
    let marker = format!("<!-- counted: {name} -->");
    let after = &page[page.find(&marker).unwrap_or_else(|| panic!("no block {name}")) + marker.len()..];
    let start = after.find("```").unwrap();
    let body = &after[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    &body[..body.find("```").unwrap()]
}

#[test]
fn the_checkout_counts_are_the_codes() {
    let guide = include_str!("../src/guide/writing_middlewares.md");
    let powertools = counted(block(guide, "checkout-powertools"));
    let middy = counted(block(guide, "checkout-middy"));

    // The README's two closures: from `.before(` to the `.after(` line.
    let readme = include_str!("../README.md");
    let before = readme.find(".before(|order").expect("the README's before closure");
    let after = readme[before..].find(".after(").unwrap() + before;
    let end = readme[after..].find('\n').unwrap() + after;
    let closures = counted(&readme[before..end]);

    assert_eq!((closures, powertools, middy), (5, 7, 8));
    let row = guide.lines().find(|line| line.starts_with("| checkout:")).unwrap();
    assert!(
        row.contains(&format!("| {closures} (a `before`")) && row.ends_with(&format!("| {powertools} | {middy} |")),
        "{row}"
    );
    assert!(readme.contains("The two middlewares are five lines; Powertools' `@lambda_handler_decorator` needs\nseven for the same, Middy eight."));
}
