"""ADBC's Flight SQL driver against a real `ordergraph serve`.

Run by server/tests/it/flight.rs with FLIGHT_PORT set; exits non-zero on
the first failed check. Prints the peak RSS of this process so the Rust
side can see the million rows streamed through, not held.
"""

import base64
import os
import resource

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa
import pyarrow.compute as pc

URI = f"grpc://127.0.0.1:{os.environ['FLIGHT_PORT']}"


def connect(user, password):
    return flight_sql.connect(
        URI, db_kwargs={"username": user, "password": password}, autocommit=True
    )


def refused(run, why):
    try:
        run()
    except (adbc_driver_manager.Error, flight_sql.Error) as e:
        return str(e)
    raise SystemExit(f"accepted: {why}")


# Handshake, then a prepared query with a bound parameter.
with connect("admin", "s3cret admin") as conn, conn.cursor() as cur:
    cur.execute(
        "SELECT order_id, amount, phone FROM orders WHERE channel = ? ORDER BY order_id",
        ("tmall",),
    )
    table = cur.fetch_arrow_table()
    assert table.column("order_id").to_pylist() == ["T1"], table
    assert table.column("phone").to_pylist() == ["13812345678"], table
    cur.execute("SELECT count(*) AS n FROM orders WHERE amount > ?", (50,))
    assert cur.fetchone() == (2,)

    # A million rows, read a batch at a time.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cur.execute(
        "SELECT value AS n, repeat('x', 1000) AS pad FROM generate_series(1, 1000000) AS t(value)"
    )
    rows = total = batches = 0
    for batch in cur.fetch_record_batch():
        rows += batch.num_rows
        batches += 1
        total += pc.sum(batch.column(0)).as_py()
    assert rows == 1_000_000, rows
    assert total == 500_000_500_000, total
    assert batches > 10, batches
    grew_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"streamed {rows} rows in {batches} batches; client peak RSS grew {grew_kib} KiB")

    # Read-only.
    for sql in ("CREATE TABLE t AS SELECT 1", "INSERT INTO orders SELECT * FROM orders"):
        refused(lambda: cur.execute(sql), sql)

# What a role may read, as catalog calls list it (GetTables, GetDbSchemas).
def tables_of(conn):
    objects = conn.adbc_get_objects(depth="tables").read_all().to_pylist()
    return {
        (schema["db_schema_name"], table["table_name"])
        for catalog in objects
        for schema in catalog["catalog_db_schemas"] or []
        for table in schema["db_schema_tables"] or []
    }


with connect("admin", "s3cret admin") as conn:
    tables = tables_of(conn)
    assert ("public", "orders") in tables and ("public", "audit_log") in tables, tables
    schema = conn.adbc_get_table_schema("orders", db_schema_filter="public")
    assert "mcid" in schema.names and "phone" in schema.names, schema
    info = conn.adbc_get_info()
    assert info["vendor_name"] == "ordergraph", info
with connect("mkt", "mkt pw") as conn:
    tables = tables_of(conn)
    assert ("public", "high_value_prospects") in tables, tables
    assert ("public", "orders") not in tables, "marketing sees orders listed"

# The analyst sees contacts masked (a 14-byte login: Basic without padding).
with connect("ana", "analyst pw") as conn, conn.cursor() as cur:
    cur.execute("SELECT phone FROM orders WHERE order_id = 'T1'")
    (phone,) = cur.fetchone()
    assert phone == "138****5678", phone

# Marketing reads segments, not orders.
with connect("mkt", "mkt pw") as conn, conn.cursor() as cur:
    message = refused(lambda: cur.execute("SELECT * FROM orders"), "marketing reads orders")
    assert "may not read" in message, message

# Wrong password, and a role that may not query.
refused(lambda: connect("admin", "wrong").close(), "a wrong password")
refused(lambda: connect("loader", "loader pw").close(), "the ingest role")

# Basic credentials on every call (no handshake), the ad-hoc statement path.
header = "Basic " + base64.b64encode(b"admin:s3cret admin").decode()
with flight_sql.connect(
    URI, db_kwargs={"adbc.flight.sql.authorization_header": header}, autocommit=True
) as conn:
    statement = adbc_driver_manager.AdbcStatement(conn.adbc_connection)
    statement.set_sql_query("SELECT count(*) AS n FROM orders")
    stream, _ = statement.execute_query()
    table = pa.RecordBatchReader._import_from_c(stream.address).read_all()
    statement.close()
    assert table.column("n").to_pylist() == [3], table

print("flight clients ok")
