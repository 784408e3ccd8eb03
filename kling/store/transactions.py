"""One SQLite write transaction, the same for every small database the store keeps (the journal,
shared links): taken under the owner's lock, `BEGIN IMMEDIATE` so a second writer waits rather than
failing halfway, rolled back on any error."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[sqlite3.Connection]:
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
