"""Merges the measurements of benches/compare.sh into one table.

    python3 benches/report.py RESULTS_DIR [--markdown]

RESULTS_DIR holds instructions.tsv (benches/instructions.sh), criterion's
summary.tsv (benches/chain.rs) and peers.tsv (benches/peers/*). For each event type:
variant, N, ns per invocation, instructions per invocation, allocations per
invocation, the ratio of each to the limit at the same N, and ns per middleware over
the bare handler. Peers report time only.
"""

import csv
import sys
from pathlib import Path

ORDER = [
    "handler", "limit", "one-async-fn", "lambda-middleware", "lambda-middleware-hooks",
    "lambda-middleware-hooks-decided", "lambda-middleware-closures-decided", "lambda-middleware-attribute-decided",
    "lambda-middleware-subscriber",
    "lambda-middleware-service", "lambda-middleware-tower-layers", "tower-named", "tower-boxed", "dyn-chain",
    "traced-no-subscriber", "traced-fmt", "traced-xray", "builtins-async", "builtins-hooks",
    "parse-inline", "parse-layer",
]
LABELS = {
    "handler": "handler alone",
    "limit": "limit: steps inline",
    "one-async-fn": "steps in one async fn",
    "lambda-middleware": "lambda-middleware, `async fn` middlewares",
    "lambda-middleware-hooks": "lambda-middleware, hook middlewares",
    "lambda-middleware-hooks-decided": "lambda-middleware, hooks, tracing decided (`.untraced()`)",
    "lambda-middleware-closures-decided": "lambda-middleware, closures (`.before` and `.after` per step), tracing decided",
    "lambda-middleware-attribute-decided": "lambda-middleware, `#[middleware(before)]` and `#[middleware(after)]` functions per step, tracing decided",
    "builtins-async": "six built-ins, hook ones run as `async fn`",
    "builtins-hooks": "six built-ins as shipped (hooks where synchronous)",
    "parse-inline": "an order parsed by `serde_json::from_value` in the handler",
    "parse-layer": "the same order parsed by a `Parse` layer",
    "lambda-middleware-subscriber": "lambda-middleware, fmt subscriber set",
    "lambda-middleware-service": "lambda-middleware as tower::Service",
    "lambda-middleware-tower-layers": "lambda-middleware hosting tower layers (`.layer`)",
    "tower-named": "tower, named futures",
    "tower-boxed": "tower, boxed futures",
    "dyn-chain": "`Vec<Box<dyn>>`, boxed Next",
    "traced-no-subscriber": "traced, no subscriber",
    "traced-fmt": "traced, fmt to sink",
    "traced-xray": "traced, X-Ray to UDP",
    "powertools": "Powertools (Python)",
    "middy": "Middy (Node.js)",
}
PAYLOAD_NAMES = {
    "json": "serde_json::Value",
    "struct": "typed struct",
    "u64": "u64",
    "http": "API Gateway REST event as JSON",
}
DEPTHS = [1, 5, 10, 20]


def read(path):
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f, delimiter="\t"))


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def main():
    results = Path(sys.argv[1])
    markdown = "--markdown" in sys.argv
    rows = {}
    for row in read(results / "instructions.tsv"):
        key = (row["payload"], row["variant"], int(row["n"]))
        rows.setdefault(key, {}).update(instr=float(row["instructions"]), allocs=float(row["allocations"]))
    for row in read(results / "summary.tsv"):
        key = (row["payload"], row["variant"], int(row["n"]))
        rows.setdefault(key, {}).update(ns=float(row["ns"]))
    for row in read(results / "peers.tsv"):
        key = ("json", row["peer"], int(row["n"]))
        rows.setdefault(key, {}).update(ns=float(row["ns"]))

    if "--by-n" in sys.argv:
        by_n(rows, markdown)
        return

    header = ["variant", "N", "ns/inv", "instr/inv", "allocs/inv", "vs limit (instr)", "vs limit (ns)", "ns/middleware"]
    for payload in ["json", "struct", "u64", "http"]:
        keys = sorted(
            (k for k in rows if k[0] == payload),
            key=lambda k: ((ORDER + ["powertools", "middy"]).index(k[1]), k[2]),
        )
        if not keys:
            continue
        lines = []
        for _, variant, n in keys:
            r = rows[(payload, variant, n)]
            limit = rows.get((payload, "limit", n), {})
            bare_variant = variant if variant in ("powertools", "middy") else "handler"
            bare = rows.get((payload, bare_variant, 0), {}).get("ns")
            ns, instr = r.get("ns"), r.get("instr")
            lines.append([
                LABELS.get(variant, variant) + (" (bare handler)" if n == 0 and bare_variant != "handler" else ""),
                str(n),
                fmt(ns, ",.1f"),
                fmt(instr, ",.0f"),
                fmt(r.get("allocs"), "g"),
                fmt(instr / limit["instr"] if instr and limit.get("instr") and n else None, ".2f"),
                fmt(ns / limit["ns"] if ns and limit.get("ns") and n and variant not in ("powertools", "middy") else None, ".2f"),
                fmt((ns - bare) / n if ns is not None and bare is not None and n else None, ",.1f"),
            ])
        print(f"\nevent: {PAYLOAD_NAMES[payload]}" + (" (peers: the same JSON object)" if payload == "json" else ""))
        if markdown:
            print("| " + " | ".join(header) + " |")
            print("|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|")
            for line in lines:
                print("| " + " | ".join(line) + " |")
        else:
            widths = [max(len(x) for x in col) for col in zip(header, *lines)]
            for line in [header] + lines:
                print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


def by_n(rows, markdown):
    """Instructions per invocation, one column per N, for the Rust variants; the
    ratio to tower's named futures in brackets where tower has a row."""
    for payload in ["json", "struct", "u64", "http"]:
        variants = sorted({k[1] for k in rows if k[0] == payload and k[1] in ORDER}, key=ORDER.index)
        if not variants:
            continue
        depths = sorted({k[2] for k in rows if k[0] == payload and k[2] > 0})
        header = ["variant"] + [f"N = {n}" for n in depths] + ["allocs/inv"]
        lines = []
        for variant in variants:
            if variant == "handler":
                continue
            cells = [LABELS.get(variant, variant)]
            allocs = set()
            for n in depths:
                r = rows.get((payload, variant, n), {})
                tower = rows.get((payload, "tower-named", n), {}).get("instr")
                instr = r.get("instr")
                if "allocs" in r:
                    allocs.add(r["allocs"])
                if instr is None:
                    cells.append("-")
                elif tower and variant not in ("tower-named", "limit"):
                    cells.append(f"{instr:,.0f} ({instr / tower:.2f}×)")
                else:
                    cells.append(f"{instr:,.0f}")
            cells.append("/".join(f"{a:g}" for a in sorted(allocs)) or "-")
            lines.append(cells)
        print(f"\nevent: {PAYLOAD_NAMES[payload]}, instructions per invocation (× tower's named futures)")
        if markdown:
            print("| " + " | ".join(header) + " |")
            print("|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|")
            for line in lines:
                print("| " + " | ".join(line) + " |")
        else:
            widths = [max(len(x) for x in col) for col in zip(header, *lines)]
            for line in [header] + lines:
                print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


if __name__ == "__main__":
    main()
