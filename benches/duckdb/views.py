#!/usr/bin/env python3
"""Runs ordergraph's analytics views in DuckDB, beside ordergraph's timings.

Reads what `cargo bench --workspace --bench views` exported (every
table the views read as `<table>.parquet`, each view's result as
`results/<view>.parquet`, and `views.json` with ordergraph's per-view
timings and row counts), loads the tables into DuckDB, creates the views
from `queries/views/*.sql` in the order of `VIEWS` in `queries/src/lib.rs`
(the dependency order), runs `SELECT * FROM <view>` fully fetched as Arrow
a few times each, and prints, per view, ordergraph's read of a maintained
view, ordergraph's and DuckDB's full recompute, their ratio, the row count,
and whether the two results hold the same rows. A view whose rows differ
between the two engines is a correctness finding: it is printed loudly and
the script exits with status 1. The bench runs this script itself at its
end when Python has `duckdb`.

The view files are not copied: each is read and passed through REWRITES,
the short list of DataFusion-to-DuckDB differences below. The two
ordergraph UDFs the views call are registered as Python UDFs (see
normalize_email and phone_kind); status_consistency,
drift_scenarios_monthly and high_value_prospects, which call the
system_statuses, status_episodes and window_peak UDFs, run as the pure SQL
those replaced (benches/duckdb/views/).

Usage: python3 benches/duckdb/views.py [--export DIR] [--runs 3] [--threads 2]
(`pip install duckdb pyarrow numpy`; DIR defaults to $EXPORT_DIR, else
<tmp>/ordergraph-views-export, as in the bench).
"""

import argparse
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

QUERIES = Path(__file__).resolve().parents[2] / "queries"
# Views whose ordergraph SQL calls a UDF that has no DuckDB counterpart get
# their pure-SQL formulation from here instead (the same semantics; the
# slt tests pin ordergraph's, the row counts below compare the two).
PURE_SQL = Path(__file__).resolve().parent / "views"

# (pattern, replacement, why): applied, in order, to each view's SQL with
# its comments removed and its string literals set aside, so a literal such
# as ' at ' is never rewritten.
REWRITES = [
    (
        r"\bto_char\(business_time\(",
        "strftime(business_time(",
        "DuckDB has no to_char; its strftime takes the same %-format, and a"
        " business time (below) is a wall time it prints as it is",
    ),
    (
        r"\bto_char\(",
        "to_char_utc(",
        "to_char of an instant prints it in UTC; DuckDB's strftime prints an"
        " instant in the session's zone, the business one (see main), so the"
        " macro to_char_utc does strftime(timezone('UTC', ts), format)",
    ),
    (
        r"\barray_agg_by\(([^,()]+),\s*([^,()]+)\)",
        r"list(\1 ORDER BY \2, \1)",
        "ordergraph's array_agg_by(value, key) is array_agg(value ORDER BY key, value) with a"
        " grouped accumulator; DuckDB's ordered aggregate is list(.. ORDER BY ..)",
    ),
    (
        r"\bfirst_by\(",
        "arg_min(",
        "ordergraph's first_by(value, key) is DuckDB's arg_min(value, key): the value of the"
        " row with the smallest key",
    ),
    (
        r"\blast_by\(",
        "arg_max(",
        "ordergraph's last_by(value, key) is DuckDB's arg_max(value, key): the value of the"
        " row with the greatest key",
    ),
    (
        r"\barray_element\(",
        "list_extract(",
        "DuckDB's name for the 1-based list element",
    ),
    (
        r"\)\s+IGNORE NULLS\b",
        " IGNORE NULLS)",
        "DuckDB wants IGNORE NULLS inside the call: last_value(x IGNORE NULLS)",
    ),
    (
        r"\bfirst_value\(",
        "first(",
        "first_value is only a window function in DuckDB; its ordered aggregate is first(x ORDER BY ..)"
        " (no view uses first_value as a window)",
    ),
    (
        r"\blast_value\(",
        "last(",
        "likewise last_value: DuckDB's ordered aggregate is last(x ORDER BY ..)",
    ),
    (
        r"\bbusiness_time\(",
        "timezone('Asia/Shanghai', ",
        "ordergraph's business_time UDF (the [report] timezone, Asia/Shanghai by default);"
        " DuckDB's timezone(zone, timestamptz) is the same local wall time",
    ),
    (
        r"\bat\b",
        '"at"',
        "AT is a keyword in DuckDB (AT TIME ZONE); the column `at` is quoted",
    ),
]

LITERAL_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|--[^\n]*")


def translate(sql):
    """A view's DataFusion SQL as DuckDB SQL, through REWRITES."""
    literals = []

    def set_aside(m):
        if m.group(0).startswith("--"):
            return ""
        literals.append(m.group(0))
        return f"\x00{len(literals) - 1}\x00"

    code = LITERAL_OR_COMMENT.sub(set_aside, sql)
    for pattern, replacement, _ in REWRITES:
        code = re.sub(pattern, replacement, code)
    code = struct_literals(code)
    return re.sub("\x00(\\d+)\x00", lambda m: literals[int(m.group(1))], code)


def struct_literals(code):
    """named_struct('a', x, 'b', y) as DuckDB's struct literal {'a': x, 'b': y}
    (DuckDB has no named_struct); nested calls included."""
    start = code.find("named_struct(")
    if start < 0:
        return code
    depth, args, arg_start = 0, [], start + len("named_struct(")
    for i in range(arg_start, len(code)):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")" and depth > 0:
            depth -= 1
        elif code[i] in ",)" and depth == 0:
            args.append(struct_literals(code[arg_start:i].strip()))
            arg_start = i + 1
            if code[i] == ")":
                pairs = ", ".join(f"{k}: {v}" for k, v in zip(args[::2], args[1::2]))
                return code[:start] + "{" + pairs + "}" + struct_literals(code[i + 1 :])
    raise ValueError("named_struct( without its closing parenthesis")


def normalize_email(raw):
    """Port of udfs/src/normalize_email.rs: trimmed, lower-cased, without a
    +tag, and for Gmail without the mailbox name's dots; None if invalid.

    Runs once a row (mcid_health_tasks calls it on email_status only, a
    table of a few thousand rows).
    """
    if raw is None:
        return None
    folded = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    trimmed = folded.strip()
    trimmed = trimmed.removeprefix("mailto:")
    local, at, domain = trimmed.rpartition("@")
    if not at or len(trimmed.encode()) > 254:
        return None
    if not (_valid_local(local) and _valid_domain(domain)):
        return None
    # A +tag sub-address reaches the same mailbox (RFC 5233).
    mailbox, plus, _ = local.partition("+")
    if plus and _valid_local(mailbox):
        local = mailbox
    # Valid means ASCII, so this is Rust's to_ascii_lowercase.
    local, domain = local.lower(), domain.lower()
    # Gmail ignores dots in the mailbox name and answers at both domains.
    if domain in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def _valid_local(local):
    special = "!#$%&'*+/=?^_`{|}~-."
    return (
        0 < len(local) <= 64
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
        and all(c.isascii() and (c.isalnum() or c in special) for c in local)
    )


def _valid_domain(domain):
    labels = domain.split(".")
    tld = labels[-1]
    return (
        len(labels) >= 2
        and len(domain) <= 253
        and len(tld) >= 2
        and all(c.isascii() and c.isalpha() for c in tld)
        and all(
            0 < len(label) <= 63
            and not label.startswith("-")
            and not label.endswith("-")
            and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
            for label in labels
        )
    )


def phone_kind(phones):
    """`phone_kind` as far as the views need it: 'masked', else 'unmasked'.

    Port of the masked test of udfs/src/phone.rs (`classify_phone` then
    `is_masked`): NFKC, trim, blank is NULL; masked when at least two of
    * • ● × hide digits, or a run of four x/X stands among digits. The views
    only compare it with 'masked' (mcid_health_tasks), so the other kinds
    (mobile, landline, virtual, placeholder, invalid), which need
    libphonenumber, are not told apart. Vectorized over an Arrow array,
    since it runs on every order's phone.
    """
    text = pc.utf8_trim_whitespace(pc.utf8_normalize(phones, "NFKC"))
    hidden = pc.count_substring_regex(text, "[*•●×]")
    x_run = pc.and_(
        pc.match_substring_regex(text, "[xX]{4}"),
        pc.match_substring_regex(text, "[0-9]"),
    )
    masked = pc.or_(pc.greater_equal(hidden, 2), x_run)
    kind = pc.if_else(masked, "masked", "unmasked")
    return pc.if_else(pc.equal(pc.utf8_length(text), 0), pa.scalar(None, pa.string()), kind)


def view_names():
    """The views of queries/src/lib.rs, in its (dependency) order."""
    lib = (QUERIES / "src" / "lib.rs").read_text()
    return re.findall(r'view!\("(\w+)"\)', lib)


def timed(f):
    started = time.perf_counter()
    out = f()
    return out, time.perf_counter() - started


def main():
    default_export = os.environ.get("EXPORT_DIR") or os.path.join(
        tempfile.gettempdir(), "ordergraph-views-export"
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", default=default_export, type=Path)
    parser.add_argument("--runs", default=3, type=int)
    parser.add_argument("--threads", default=2, type=int)
    args = parser.parse_args()

    ordergraph = json.loads((args.export / "views.json").read_text())
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    # business_time(x) becomes timezone('Asia/Shanghai', x): a local wall
    # time without zone. The views compare such values with instants
    # (ordered_at >= date_trunc('day', business_time(now)) - 6 days), which
    # DuckDB does by reading the wall time in the session's zone: so the
    # session's zone is the business one, as ordergraph's business_time
    # keeps the instant.
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.execute("CREATE MACRO to_char_utc(ts, format) AS strftime(timezone('UTC', ts), format)")
    con.create_function(
        "normalize_email",
        normalize_email,
        ["VARCHAR"],
        "VARCHAR",
        null_handling="special",
    )
    con.create_function(
        "phone_kind",
        phone_kind,
        ["VARCHAR"],
        "VARCHAR",
        type="arrow",
        null_handling="special",
    )

    def load():
        for table in ordergraph["tables"]:
            path = str(args.export / f"{table}.parquet").replace("'", "''")
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{path}')")

    _, load_s = timed(load)
    print(
        f"DuckDB {duckdb.__version__}, {args.threads} threads: loaded "
        f"{len(ordergraph['tables'])} tables ({ordergraph['orders']} orders) in {load_s:.2f} s"
    )
    for pattern, replacement, why in REWRITES:
        print(f"  rewrite {pattern!r} -> {replacement!r}: {why}")
    names = view_names()
    for name in names:
        path = PURE_SQL / f"{name}.sql"
        if path.exists():
            print(f"  {name}: pure SQL from {path.relative_to(PURE_SQL.parents[2])}")
        else:
            path = QUERIES / "views" / f"{name}.sql"
        con.execute(translate(path.read_text()))

    theirs = {v["name"]: v for v in ordergraph["views"]}
    results = []
    # Every view is created (they build on each other), but only those the
    # bench ran (all, unless it was given VIEWS) are timed.
    for name in (n for n in names if n in theirs):
        duck = time_view(con, name, args.runs)
        results.append((name, theirs.get(name), duck))
        if "rows" in duck:
            shown = f"{duck['median_ms']:>10.1f} ms {duck['rows']:>10} rows"
            print(f"  {name:<26} {shown}", file=sys.stderr)
        else:
            print(f"  {name:<26} failed: {duck['error']}", file=sys.stderr)

    print(
        f"\n{ordergraph['orders']} orders of {ordergraph['customers']} people; "
        f"median of {args.runs} runs (ordergraph: {ordergraph['runs']}), "
        "SELECT * FROM <view> fully fetched as Arrow\n"
    )
    print(
        "| view | ordergraph read ms | ordergraph recompute ms | DuckDB ms "
        "| recompute / DuckDB | rows | content |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    findings = []
    og_total = duck_total = read_total = 0.0
    for name, og, duck in results:
        ran = og and "rows" in og
        og_ms = f"{og['median_ms']:.1f}" if ran else "failed" if og else "not run"
        kept = (og or {}).get("maintained")
        read_ms = f"{kept['read_ms']:.1f}" if kept else ""
        duck_ms = f"{duck['median_ms']:.1f}" if "rows" in duck else "failed"
        ratio = ""
        content = ""
        if ran and "rows" in duck:
            ratio = f"{og['median_ms'] / duck['median_ms']:.2f}"
            og_total += og["median_ms"]
            duck_total += duck["median_ms"]
            read_total += kept["read_ms"] if kept else og["median_ms"]
            differing = differing_rows(con, name, args.export / "results" / f"{name}.parquet")
            if isinstance(differing, str):
                content = differing
            else:
                content = "equal" if differing == 0 else f"**{differing} rows differ**"
            if differing:
                findings.append(f"{name}: {differing} rows in one result and not the other")
        rows = [v["rows"] for v in (og, duck) if v and "rows" in v]
        shown = str(rows[0]) if len(set(rows)) == 1 else f"**{rows[0]} vs DuckDB {rows[1]}**"
        print(f"| `{name}` | {read_ms} | {og_ms} | {duck_ms} | {ratio} | {shown} | {content} |")
        if len(set(rows)) > 1:
            findings.append(f"{name}: {rows[0]} rows in ordergraph, {rows[1]} in DuckDB")
        for engine, v in (("ordergraph", og), ("DuckDB", duck)):
            if v and "error" in v:
                findings.append(f"{name} failed in {engine}: {v['error']}")
    if duck_total:
        print(
            f"| views both ran | {read_total:.1f} | {og_total:.1f} | {duck_total:.1f} "
            f"| {og_total / duck_total:.2f} | | |"
        )
    print(
        "\nread: a maintained view's current rows (median of the reads after "
        "the first, which builds them); for the other views, the recompute"
    )
    duck_peak = peak_rss_mib()
    print(
        f"\nDuckDB process peak memory {duck_peak:.0f} MiB; "
        f"ordergraph bench peak {ordergraph['peak_rss_mib']:.0f} MiB"
    )

    (args.export / "views-duckdb.json").write_text(
        json.dumps(
            {
                "duckdb": duckdb.__version__,
                "threads": args.threads,
                "load_s": load_s,
                "peak_rss_mib": duck_peak,
                "views": [dict(duck, name=name) for name, _, duck in results],
            },
            indent=2,
        )
    )
    if findings:
        print("\nROW COUNT MISMATCHES AND FAILURES:", file=sys.stderr)
        for finding in findings:
            print(f"  {finding}", file=sys.stderr)
        sys.exit(1)


def peak_rss_mib():
    """This process's peak resident memory: VmHWM, which starts afresh at
    exec (ru_maxrss would carry the bench's peak when the bench runs us)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def differing_rows(con, name, path):
    """Rows in DuckDB's result of view `name` and not in ordergraph's
    (`path`, Parquet), or the other way round, counted with multiplicity;
    floating-point columns compared to 6 decimals."""
    source = "read_parquet('" + str(path).replace("'", "''") + "')"
    columns = con.sql(f"DESCRIBE SELECT * FROM {name}").fetchall()
    shown = ", ".join(
        f'round("{c}", 6)' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t, *_ in columns
    )
    theirs = f"SELECT {shown} FROM {name}"
    ours = f"SELECT {shown} FROM {source}"
    try:
        return con.sql(
            f"SELECT count(*) FROM (({theirs} EXCEPT ALL {ours}) "
            f"UNION ALL ({ours} EXCEPT ALL {theirs}))"
        ).fetchall()[0][0]
    except duckdb.Error as e:
        return f"not compared: {str(e).splitlines()[0]}"


def time_view(con, name, runs):
    """Median of `runs` runs of SELECT * FROM <name> fetched as Arrow, and
    its rows; or the error that stopped it."""
    ms = []
    rows = 0
    for _ in range(runs):
        try:
            result, s = timed(lambda: con.sql(f"SELECT * FROM {name}").to_arrow_table())
        except duckdb.Error as e:
            return {"error": str(e).replace("\n", " ")}
        rows = result.num_rows
        ms.append(s * 1e3)
    return {"median_ms": statistics.median(ms), "runs_ms": ms, "rows": rows}

if __name__ == "__main__":
    main()
