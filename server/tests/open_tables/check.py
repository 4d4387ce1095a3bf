"""Reads an export of ordergraph's open tables with other engines and
compares every table with ordergraph's own answer.

Usage:
  python3 check.py tables DIR BASE_URL USER PASSWORD
      every table of DIR/_ordergraph_export.json, read with delta-rs (the
      `deltalake` package) into pyarrow, with DuckDB over that, and with
      DuckDB and Apache Spark (`pyspark`, local) over the snapshot's
      Parquet files alone; row counts and a
      checksum per column (non-null count, sum of numbers, of string
      lengths, of epoch seconds, of trues) must equal ordergraph's over
      /v1/sql.
  python3 check.py versions TABLE_DIR
      prints [version, rows] of every version of a Delta table (time
      travel).
  python3 check.py snapshots DIR SECONDS
      reads DIR/orders again and again for SECONDS while exports run:
      every version read holds each order once and exactly the rows its
      commit recorded; prints the versions seen.
"""

import base64
import json
import math
import os
import sys
import time
import urllib.error
import urllib.request

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

MONTH = "ordered_month"

_spark = None


def spark():
    """One local Spark session for the whole check: starting the JVM takes
    seconds."""
    global _spark
    if _spark is None:
        from pyspark.sql import SparkSession

        _spark = (
            SparkSession.builder.master("local[2]")
            .appName("ordergraph-open-tables")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .getOrCreate()
        )
        _spark.sparkContext.setLogLevel("ERROR")
    return _spark


class Dialect:
    """How a checksum is written in one engine's SQL."""

    def __init__(self, quote, epoch):
        self.quote = quote
        self.epoch = epoch


# DataFusion (ordergraph) and DuckDB read the same SQL.
STANDARD = Dialect(
    quote=lambda n: '"' + n.replace('"', '""') + '"',
    epoch=lambda q: f"sum(CAST(extract(epoch FROM {q}) AS DOUBLE))",
)
SPARK = Dialect(
    quote=lambda n: "`" + n.replace("`", "``") + "`",
    epoch=lambda q: f"sum(CAST(unix_micros({q}) AS DOUBLE) / 1e6)",
)


def ordergraph(base, user, password, sql):
    request = urllib.request.Request(
        base + "/v1/sql",
        data=json.dumps({"sql": sql}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
        },
    )
    try:
        with urllib.request.urlopen(request) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise AssertionError(f"ordergraph refused {sql}: {e.code} {e.read().decode()}") from None


def measures(schema, dialect=STANDARD):
    """(name, SQL expression) of each checksum of a table's columns."""
    out = [("rows", "count(*)")]
    for field in schema:
        name, t = field.name, field.type
        if name == MONTH:
            continue
        q = dialect.quote(name)
        out.append((f"{name}:count", f"count({q})"))
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            out.append((f"{name}:sum", f"sum(CAST({q} AS DOUBLE))"))
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            out.append((f"{name}:length", f"sum(length({q}))"))
        elif pa.types.is_timestamp(t):
            out.append((f"{name}:epoch", dialect.epoch(q)))
        elif pa.types.is_boolean(t):
            out.append((f"{name}:trues", f"sum(CASE WHEN {q} THEN 1 ELSE 0 END)"))
    return out


def in_pyarrow(table, wanted):
    """The same checksums computed by pyarrow itself."""
    out = {}
    for key, _ in wanted:
        if key == "rows":
            out[key] = table.num_rows
            continue
        name, what = key.rsplit(":", 1)
        column = table.column(name)
        if what == "count":
            out[key] = len(column) - column.null_count
        elif what == "sum":
            out[key] = pc.sum(pc.cast(column, pa.float64())).as_py()
        elif what == "length":
            out[key] = pc.sum(pc.utf8_length(column)).as_py()
        elif what == "epoch":
            micros = pc.cast(pc.cast(column, pa.timestamp("us", "UTC")), pa.int64())
            out[key] = pc.sum(pc.divide(pc.cast(micros, pa.float64()), 1e6)).as_py()
        elif what == "trues":
            out[key] = pc.sum(pc.cast(column, pa.int64())).as_py()
    return out


def same(a, b):
    if a is None or b is None:
        # An empty sum is NULL in SQL and None in pyarrow.
        return (a or 0) == (b or 0)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def check_tables(directory, base, user, password):
    manifest = json.load(open(f"{directory}/_ordergraph_export.json"))
    checked = 0
    failures = []
    for entry in manifest["tables"]:
        try:
            check_table(directory, manifest["format"], entry, base, user, password)
            checked += 1
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)
    print(f"{checked} tables equal in ordergraph, delta-rs, pyarrow, DuckDB and Spark")


def check_table(directory, format, entry, base, user, password):
    name = entry["table"]
    path = f"{directory}/{entry['path']}"
    if format == "delta":
        dt = DeltaTable(path)
        assert dt.version() == entry["version"], (name, dt.version(), entry["version"])
        table = dt.to_pyarrow_table()
        files = dt.file_uris()
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        files = [path]
    wanted = measures(table.schema)
    select = ", ".join(f"{sql} AS m{i}" for i, (_, sql) in enumerate(wanted))
    source = f'"{name}"'
    if MONTH in table.schema.names:
        source = f"(SELECT *, to_char(business_time(ordered_at), '%Y-%m') AS {MONTH} FROM \"{name}\")"
    theirs = ordergraph(base, user, password, f"SELECT {select} FROM {source}")[0]
    expected = {key: theirs[f"m{i}"] for i, (key, _) in enumerate(wanted)}

    con = duckdb.connect()
    con.register("exported", table)
    row = con.execute(f"SELECT {select} FROM exported").fetchone()
    by_duckdb = {key: row[i] for i, (key, _) in enumerate(wanted)}
    if files:
        listing = ", ".join("'" + f.removeprefix("file://") + "'" for f in files)
        row = con.execute(
            f"SELECT {select} FROM read_parquet([{listing}], hive_partitioning = true, union_by_name = true)"
        ).fetchone()
    else:
        row = [0] + [None] * (len(wanted) - 1)
    by_files = {key: row[i] for i, (key, _) in enumerate(wanted)}
    # Spark reads the Delta snapshot's files; a Parquet export is one file
    # DuckDB has read already.
    by_spark = in_spark(path, files, table.schema) if files and format == "delta" else by_files
    by_pyarrow = in_pyarrow(table, wanted)
    readers = (
        ("delta-rs+duckdb", by_duckdb),
        ("parquet files+duckdb", by_files),
        ("parquet files+spark", by_spark),
        ("delta-rs+pyarrow", by_pyarrow),
    )
    for reader, got in readers:
        for key, value in expected.items():
            assert same(value, got[key]), f"{name}: {key} is {value} in ordergraph, {got[key]} by {reader}"
    assert entry["rows"] == expected["rows"], (name, entry["rows"], expected["rows"])

    if MONTH in table.schema.names:
        months = ordergraph(
            base, user, password,
            f"SELECT to_char(business_time(ordered_at), '%Y-%m') AS m, count(*) AS n FROM \"{name}\" GROUP BY 1 ORDER BY 1",
        )
        got = con.execute(f"SELECT {MONTH}, count(*) FROM exported GROUP BY 1 ORDER BY 1").fetchall()
        assert [(m["m"], m["n"]) for m in months] == [tuple(r) for r in got], (name, months, got)


def in_spark(path, files, schema):
    """The checksums computed by Spark over a Delta snapshot's Parquet
    files, the partition column read from the directory names."""
    reader = spark().read.option("mergeSchema", "true").option("basePath", path)
    spark().catalog.dropTempView("exported")
    reader.parquet(*[f.removeprefix("file://") for f in files]).createOrReplaceTempView("exported")
    wanted = measures(schema, SPARK)
    select = ", ".join(f"{sql} AS m{i}" for i, (_, sql) in enumerate(wanted))
    row = spark().sql(f"SELECT {select} FROM exported").collect()[0]
    return {key: row[i] for i, (key, _) in enumerate(wanted)}


def recorded_rows(path, version):
    """The rows version `version` of a Delta table recorded in its commit
    information, read from the log file itself."""
    with open(f"{path}/_delta_log/{version:020}.json") as log:
        for line in log:
            action = json.loads(line)
            if "commitInfo" in action:
                return action["commitInfo"].get("ordergraph.rows")
    return None


def check_snapshots(directory, seconds):
    seen = set()
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            dt = DeltaTable(f"{directory}/orders")
        except Exception:
            time.sleep(0.1)  # not exported yet
            continue
        version = dt.version()
        table = dt.to_pyarrow_table(columns=["channel", "order_id"])
        keys = pc.binary_join_element_wise(table.column("channel"), table.column("order_id"), ":")
        assert pc.count_distinct(keys).as_py() == table.num_rows, f"version {version} holds an order twice"
        recorded = recorded_rows(f"{directory}/orders", version)
        assert recorded is not None, f"version {version} records no rows"
        assert int(recorded) == table.num_rows, (version, recorded, table.num_rows)
        seen.add((version, table.num_rows))
        time.sleep(0.05)
    print(json.dumps(sorted(seen)))


def versions(path):
    latest = DeltaTable(path).version()
    out = []
    for version in range(latest + 1):
        out.append([version, DeltaTable(path, version=version).to_pyarrow_table().num_rows])
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "tables":
        check_tables(*sys.argv[2:6])
    elif sys.argv[1] == "versions":
        versions(sys.argv[2])
    elif sys.argv[1] == "snapshots":
        check_snapshots(sys.argv[2], float(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
    # The native libraries' threads (pyarrow, DuckDB, delta-rs) can abort
    # the interpreter's shutdown ("terminate called without an active
    # exception") after every check has passed; leave without it.
    sys.stdout.flush()
    os._exit(0)
