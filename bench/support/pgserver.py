"""The PostgreSQL server the benchmarks create their databases on (from ``DATABASE_URL``,
default postgres://postgres@127.0.0.1:5432/), and statements run on it outside any
database of ours (CREATE / DROP DATABASE)."""

from __future__ import annotations

import os
import sys
import urllib.parse


def base_url(script: str) -> str:
    """The server's URL without a database name; exits when it is not PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit(f"{script} needs PostgreSQL: DATABASE_URL=postgres://user@host:port/")
    return f"{parsed.scheme}://{parsed.netloc}/"


def connect(script: str):
    """An autocommit connection to the server's ``postgres`` database."""
    import psycopg

    parsed = urllib.parse.urlparse(base_url(script))
    return psycopg.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=urllib.parse.unquote(parsed.username or "postgres"),
        password=urllib.parse.unquote(parsed.password or "") or None,
        dbname="postgres",
        autocommit=True,
    )


def admin_sql(script: str, statement: str) -> None:
    with connect(script) as conn:
        conn.execute(statement)
