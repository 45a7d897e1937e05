"""Object storage of the embedded API server.

Owns: `Storage` (objects by storage key, namespace and name; the one global resourceVersion
sequence; a per-resource ring buffer of `Event`s for watch replay) and its optional SQLite
write-through (WAL), so a restart with the same data directory keeps every object and the
resourceVersion sequence. Watch history does not survive a restart: older resourceVersions
then answer 410 Expired and clients re-list.
Stored objects are never mutated after `put`: writers build a new dict each time.
Called by: `api` only.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import pathlib
import sqlite3
from typing import Any

from engine.localcluster import errors

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


@dataclasses.dataclass
class Event:
    """One change: `obj` is the new state (the last state for DELETED), `old` the previous one."""

    type: str
    obj: dict[str, Any]
    old: dict[str, Any] | None
    revision: int
    _line: bytes | None = None

    def line(self) -> bytes:
        """The watch-stream line `{"type":..,"object":..}\\n`, encoded once and shared."""
        if self._line is None:
            self._line = (json.dumps({"type": self.type, "object": self.obj}, separators=(",", ":"))
                          + "\n").encode()
        return self._line


class Storage:
    """In-memory object store with optional SQLite persistence."""

    def __init__(self, data_dir: str | pathlib.Path | None = None, *, history: int = 10_000) -> None:
        self._objects: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self._history: dict[str, collections.deque[Event]] = {}
        self._dropped: dict[str, int] = {}  # highest revision no longer replayable, per key
        self._history_size = history
        self._revision = 0
        self._floor = 0  # history before this revision was lost in a restart
        self._db: sqlite3.Connection | None = None
        if data_dir is not None:
            self._open(pathlib.Path(data_dir))

    @property
    def revision(self) -> int:
        """The last revision handed out."""
        return self._revision

    def next_revision(self) -> int:
        """A new, strictly larger revision."""
        self._revision += 1
        return self._revision

    def get(self, skey: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object, or None. Callers must not mutate it."""
        return self._objects.get(skey, {}).get(namespace, {}).get(name)

    def list(self, skey: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects sorted by namespace then name (etcd key order)."""
        by_namespace = self._objects.get(skey, {})
        spaces = [namespace] if namespace is not None else sorted(by_namespace)
        found: list[dict[str, Any]] = []
        for space in spaces:
            names = by_namespace.get(space, {})
            found.extend(names[n] for n in sorted(names))
        return found

    def put(self, skey: str, obj: dict[str, Any], old: dict[str, Any] | None) -> Event:
        """Store `obj` (its resourceVersion already set) and record ADDED or MODIFIED."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        self._objects.setdefault(skey, {}).setdefault(namespace, {})[meta["name"]] = obj
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                             (skey, namespace, meta["name"], json.dumps(obj)))
            self._save_revision()
        return self._record(skey, Event(MODIFIED if old else ADDED, obj, old, int(meta["resourceVersion"])))

    def remove(self, skey: str, obj: dict[str, Any]) -> Event:
        """Remove the object; `obj` is its last state with a fresh resourceVersion."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        names = self._objects.get(skey, {}).get(namespace, {})
        old = names.pop(meta["name"], None)
        if not names:
            self._objects.get(skey, {}).pop(namespace, None)
        if self._db is not None:
            self._db.execute("DELETE FROM objects WHERE skey=? AND ns=? AND name=?",
                             (skey, namespace, meta["name"]))
            self._save_revision()
        return self._record(skey, Event(DELETED, obj, old, int(meta["resourceVersion"])))

    def since(self, skey: str, revision: int) -> list[Event]:
        """Events of `skey` after `revision`; 410 Expired when history no longer reaches back."""
        oldest = max(self._dropped.get(skey, 0), self._floor)
        if revision < oldest:
            raise errors.expired(f"too old resource version: {revision} ({oldest + 1})")
        return [event for event in self._history.get(skey, ()) if event.revision > revision]

    def close(self) -> None:
        """Flush and close the database, if any."""
        if self._db is not None:
            self._db.commit()
            self._db.close()
            self._db = None

    def _record(self, skey: str, event: Event) -> Event:
        ring = self._history.get(skey)
        if ring is None:
            ring = self._history[skey] = collections.deque(maxlen=self._history_size)
        if len(ring) == ring.maxlen:
            self._dropped[skey] = ring[0].revision
        ring.append(event)
        return event

    def _save_revision(self) -> None:
        assert self._db is not None
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('revision', ?)", (self._revision,))
        self._db.commit()

    def _open(self, directory: pathlib.Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(directory / "objects.sqlite"), check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS objects (skey TEXT, ns TEXT, name TEXT, body TEXT,"
                   " PRIMARY KEY (skey, ns, name))")
        db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER)")
        row = db.execute("SELECT v FROM meta WHERE k='revision'").fetchone()
        self._revision = int(row[0]) if row else 0
        for skey, namespace, name, body in db.execute("SELECT skey, ns, name, body FROM objects"):
            self._objects.setdefault(skey, {}).setdefault(namespace, {})[name] = json.loads(body)
        db.commit()
        self._floor = self._revision
        self._db = db
