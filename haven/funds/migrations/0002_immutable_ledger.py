"""Make ledger rows immutable in the database itself.

Entries, transactions and donations refuse UPDATE and DELETE on SQLite and
PostgreSQL, so not even a bug or a hand-typed SQL statement in the application's
own connection can edit the books; corrections are reversing transactions.
Accounts and import batches refuse DELETE: entries point at them (without a
foreign-key constraint, see models.py), so they must never disappear.
(TRUNCATE is left alone: test runners empty tables with it.)
"""

from django.db import migrations

TABLES = ["funds_entry", "funds_transaction", "funds_donation"]
KEPT = ["funds_account", "funds_importbatch"]  # DELETE refused, UPDATE allowed
MESSAGE = "ledger rows are immutable; correct a mistake with a reversal"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION funds_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on %: {MESSAGE}', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
"""


def _statements(vendor):
    ops = [(t, ("UPDATE", "DELETE")) for t in TABLES] + [(t, ("DELETE",)) for t in KEPT]
    if vendor == "sqlite":
        for table, table_ops in ops:
            for op in table_ops:
                yield (
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{op} on {table}: {MESSAGE}'); END;"
                )
    elif vendor == "postgresql":
        yield PG_FUNCTION
        for table, table_ops in ops:
            yield (
                f"CREATE TRIGGER {table}_immutable BEFORE {' OR '.join(table_ops)} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION funds_refuse_change();"
            )


def _reverse_statements(vendor):
    if vendor == "sqlite":
        for table in TABLES + KEPT:
            for op in ("update", "delete"):
                yield f"DROP TRIGGER IF EXISTS {table}_no_{op};"
    elif vendor == "postgresql":
        for table in TABLES + KEPT:
            yield f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};"
        yield "DROP FUNCTION IF EXISTS funds_refuse_change();"


def forwards(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    for sql in _reverse_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
