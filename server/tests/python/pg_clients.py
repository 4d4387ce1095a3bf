"""Python clients against a running `ordergraph serve` (run by
server/tests/it/pg.rs with PG_PORT set): psycopg with parameters,
SQLAlchemy's connect-time probes and reflection (schemas, tables, views,
columns with types, keys, indexes), pandas read_sql.
Exits non-zero on the first mismatch."""

import os

import pandas
import psycopg
import sqlalchemy

port = int(os.environ["PG_PORT"])
user, password = os.environ["PG_USER"], os.environ["PG_PASSWORD"]

with psycopg.connect(
    host="127.0.0.1", port=port, user=user, password=password, dbname="ordergraph"
) as conn:
    rows = conn.execute(
        "SELECT order_id, amount FROM orders WHERE channel = %s ORDER BY order_id", ("tmall",)
    ).fetchall()
    assert [r[0] for r in rows] == ["T1"], rows
    assert str(rows[0][1]) == "199.00", rows

url = sqlalchemy.engine.URL.create(
    "postgresql+psycopg", username=user, password=password,
    host="127.0.0.1", port=port, database="ordergraph",
)
engine = sqlalchemy.create_engine(url)
inspector = sqlalchemy.inspect(engine)
tables = inspector.get_table_names()
assert "orders" in tables, tables
# What Superset reflects when a dataset is added: schemas, views, columns
# with their types, keys, indexes, comments.
assert "public" in inspector.get_schema_names()
views = inspector.get_view_names()
assert "customers" in views or "customers" in tables, (views, tables)
columns = {c["name"]: c for c in inspector.get_columns("orders")}
for name, kind in [
    ("order_id", sqlalchemy.types.String),
    ("amount", sqlalchemy.types.Numeric),
    ("ordered_at", sqlalchemy.types.DateTime),
    ("mcid", sqlalchemy.types.String),
]:
    assert isinstance(columns[name]["type"], kind), (name, columns[name])
assert columns["ordered_at"]["type"].timezone, columns["ordered_at"]
assert inspector.get_pk_constraint("orders")["constrained_columns"] == []
assert inspector.get_foreign_keys("orders") == []
assert inspector.get_indexes("orders") == []
inspector.get_table_comment("orders")

frame = pandas.read_sql(
    "SELECT channel, count(*) AS n, sum(amount) AS total FROM orders GROUP BY channel ORDER BY channel",
    engine,
)
assert list(frame["channel"]) == ["jd", "pdd", "tmall"], frame
assert list(frame["n"]) == [1, 1, 1], frame
print("python clients ok")
