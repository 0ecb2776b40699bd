"""The Python side of testdb.sh: a test's Python reads a study on either backend.

  import testdb; con = testdb.connect(DB)

DB is what `test_db` printed. A file is opened with Python's sqlite3, exactly as before (the
SQLite run reads the file as it always did). A postgresql:// URL is read through psql (python3
has no PostgreSQL driver here): con.execute(SQL[, params]) runs one SELECT both dialects accept
("user" quoted) and gives its rows as tuples, in the order PostgreSQL returns them, with the
types a driver would give (integers as int, text as str, NULL as None: each row travels as
row_to_json, one line per row); ? placeholders take params as quoted literals; .fetchone() and
.fetchall() work as on a sqlite3 cursor."""
import glob
import json
import re
import sqlite3
import subprocess


def connect(db):
    if "://" not in db:
        return sqlite3.connect(db)
    return _Psql(db)


class _Rows(list):
    def fetchone(self):
        return self[0] if self else None

    def fetchall(self):
        return list(self)


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


class _Psql:
    def __init__(self, url):
        self.url = url
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"),
                      key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        self.psql = bins[-1] if bins else "psql"

    def execute(self, sql, params=()):
        sql = sql.strip().rstrip(";")
        if params:
            parts = sql.split("?")
            assert len(parts) == len(params) + 1, ("placeholders", sql, params)
            sql = parts[0] + "".join(_literal(v) + s for v, s in zip(params, parts[1:]))
        p = subprocess.run([self.psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.url, "-c",
                            f"SELECT row_to_json(t) FROM ({sql}) t"], capture_output=True, text=True,
                           encoding="utf-8")
        if p.returncode != 0:
            raise RuntimeError(f"psql: {p.stderr.strip()}\n  in: {sql}")
        # one row a line (JSON escapes newlines; split on "\n" alone, not on U+2028 and the like);
        # object_pairs_hook keeps every column, in order, even two of the same name
        return _Rows(tuple(json.loads(line, object_pairs_hook=lambda kv: [v for _, v in kv]))
                     for line in p.stdout.split("\n") if line)

    def close(self):
        pass
