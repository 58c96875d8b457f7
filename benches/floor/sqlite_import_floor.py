#!/usr/bin/env python3
"""The floor for Vow's SQLite import (BENCHMARKS.md): the same rows written by the
plainest path there is, Python's sqlite3 `executemany`, into Vow's own schema (its
migrations, applied in order), with Vow's pragmas (WAL, synchronous=FULL,
secure_delete, foreign keys) and random bytes where Vow writes ciphertext.

Per subject, as `Engine::import` writes them: the subject row (invisible until the
import commits), its wrapped key, 2 identifiers (blind index + sealed value), 8 field
rows, 2 consent rows and 1 hash-chained audit entry; per batch, the import's
heartbeat and the audit head; at the end, one statement makes the subjects visible.
No parsing, validation, decision or encryption: those are what Vow adds on top.

    python3 benches/floor/sqlite_import_floor.py --subjects 100000 --db /tmp/floor.db

Prints a line of JSON (subjects/s, seconds) at the end.
"""

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import time
import uuid
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parents[2] / "crates/vow-store/migrations/sqlite"
CATEGORIES = [
    "user.name",
    "user.contact.email",
    "user.contact.phone_number",
    "user.contact.address.postal_code",
    "user.demographic.date_of_birth",
    "user.demographic.gender",
    "user.survey.answer",
    "user.health_and_medical",
]


_counter = 0


def uuid7() -> str:
    """A time-ordered id shaped like Vow's UUIDv7s (ordered ids append to a B-tree)."""
    global _counter
    _counter += 1
    ms = int(time.time() * 1000)
    rand = int.from_bytes(os.urandom(8), "big") & 0x3FFF_FFFF_FFFF_FFFF
    value = (ms << 80) | (0x7 << 76) | ((_counter & 0xFFF) << 64) | (0x2 << 62) | rand
    return str(uuid.UUID(int=value))


def sealed(plain_len: int) -> bytes:
    # XChaCha20-Poly1305: 24-byte nonce, the text, a 16-byte tag.
    return os.urandom(24 + plain_len + 16)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--db", required=True, help="the database file (replaced)")
    ap.add_argument("--batch", type=int, default=1000, help="subjects per transaction")
    args = ap.parse_args()

    for suffix in ("", "-wal", "-shm"):
        Path(args.db + suffix).unlink(missing_ok=True)
    db = sqlite3.connect(args.db, isolation_level=None)
    for pragma in (
        "journal_mode = WAL",
        "synchronous = FULL",
        "foreign_keys = ON",
        "secure_delete = ON",
        "cache_size = -16384",
        "mmap_size = 1073741824",
    ):
        db.execute(f"PRAGMA {pragma}")
    for m in sorted(MIGRATIONS.glob("*.sql")):
        db.executescript(m.read_text())

    now = int(time.time() * 1000)
    tenant = "floor"
    import_id = uuid7()
    db.execute(
        "INSERT INTO tenants (id, name, role, created_at, index_key, kek_version) VALUES (?, 'Floor', 'controller', ?, ?, 1)",
        (tenant, now, sealed(32)),
    )
    db.execute(
        "INSERT INTO tenant_keks (tenant_id, version, wrapped, created_at) VALUES (?, 1, ?, ?)",
        (tenant, sealed(32), now),
    )
    db.execute(
        "INSERT INTO imports (id, tenant_id, actor, state, started_at, heartbeat_at) VALUES (?, ?, 'floor', 'running', ?, ?)",
        (import_id, tenant, now, now),
    )
    seq, prev = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()

    # Only the writing is timed: making the rows up in Python is slower than
    # writing them, and is not part of any floor.
    seconds = 0.0
    done = 0
    while done < args.subjects:
        n = min(args.batch, args.subjects - done)
        subjects, keys, idents, fields, consents, audit = [], [], [], [], [], []
        for i in range(done, done + n):
            sid = uuid7()
            subjects.append((sid, tenant, now, sealed(10), import_id))
            keys.append((sid, tenant, sealed(32)))
            idents.append((tenant, "email", os.urandom(16), sid, sealed(24)))
            idents.append((tenant, "external_id", os.urandom(16), sid, sealed(12)))
            for c in CATEGORIES:
                fields.append((uuid7(), tenant, sid, c, '["research"]', "import", "primary", now, sealed(20)))
            consents.append((uuid7(), tenant, sid, 1, "research", "grant", "express", now, None, sealed(40)))
            consents.append((uuid7(), tenant, sid, 2, "marketing.email", "grant", "implied", now, now + 63_072_000_000, sealed(40)))
            seq += 1
            detail = json.dumps({"categories": CATEGORIES, "consents": 2, "via": "import", "import": import_id})
            prev = hashlib.sha256(prev + f"{seq} {now} {tenant} import subject.create {sid} {detail}".encode()).digest()
            audit.append((seq, now, tenant, "import", "subject.create", sid, detail, prev))
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO subjects (id, tenant_id, created_at, birth_date, status, import_id) VALUES (?, ?, ?, ?, 'importing', ?)",
            subjects,
        )
        db.executemany("INSERT INTO subject_keys (subject_id, tenant_id, kek_version, wrapped) VALUES (?, ?, 1, ?)", keys)
        db.executemany("INSERT INTO identifiers (tenant_id, kind, bidx, subject_id, value) VALUES (?, ?, ?, ?, ?)", idents)
        db.executemany(
            "INSERT INTO fields (id, tenant_id, subject_id, category, purposes, source, store, collected_at, value, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            fields,
        )
        db.executemany(
            "INSERT INTO consents (id, tenant_id, subject_id, seq, purpose, action, kind, at, expires_at, policy_version, evidence, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 0, 'import')",
            consents,
        )
        db.executemany(
            "INSERT INTO audit (seq, at, tenant_id, actor, action, subject_id, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            audit,
        )
        db.execute("UPDATE imports SET heartbeat_at = ?, imported = ? WHERE id = ?", (now, done + n, import_id))
        db.execute("COMMIT")
        seconds += time.perf_counter() - started
        done += n
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE subjects SET status = 'active', import_id = NULL WHERE import_id = ?", (import_id,))
    db.execute("UPDATE imports SET state = 'committed' WHERE id = ?", (import_id,))
    db.execute("COMMIT")
    seconds += time.perf_counter() - started
    db.close()
    rate = args.subjects / seconds
    print(f"floor: {args.subjects} subjects in {seconds:.1f} s, {rate:.0f} subjects/s", file=sys.stderr)
    print(json.dumps({"bench": "sqlite_import_floor", "subjects": args.subjects, "seconds": round(seconds, 2), "subjects_per_s": round(rate)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
