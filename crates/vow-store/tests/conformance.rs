//! Store conformance: one suite, run unchanged against SQLite and PostgreSQL.
//!
//! Every public method of `Store` and `Tx` is exercised with real assertions, so
//! the two backends are held to the same observable behaviour. Each check works on
//! its own tenants and ids (except the audit chain, which is global and checked
//! first, from the genesis head).
//!
//! PostgreSQL runs by default against `VOW_TEST_PG_URL` (default: the local server)
//! and fails when the server is unreachable; set `VOW_SKIP_PG=1` to skip it.

use std::path::Path;

use vow_store::testing::{PgTestDb, pg_skipped};
use vow_store::{
    ApiKeyRow, AuditHead, AuditRow, Backend, ConsentRow, FieldRow, IdentifierRow, KekRow, NewAudit,
    PolicyRow, Store, StoreError, SubjectKeyRow, SubjectRow, TenantRow, Tx,
};

/// 2100-01-01T00:00:00Z in unix milliseconds: beyond 32 bits.
const FAR_FUTURE_MS: i64 = 4_102_444_800_000;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn all_bytes() -> Vec<u8> {
    (0..=255u8).collect()
}

async fn write(store: &Store) -> Tx {
    store.write().await.expect("begin write transaction")
}

async fn read(store: &Store) -> Tx {
    store.read().await.expect("begin read transaction")
}

async fn commit(tx: Tx) {
    tx.commit().await.expect("commit");
}

fn tenant_row(id: &str) -> TenantRow {
    TenantRow {
        id: id.to_string(),
        name: format!("Tenant {id}"),
        role: "controller".to_string(),
        controller_name: None,
        controller_contact: None,
        created_at: 1_700_000_000_000,
        index_key: vec![0xA5; 32],
        kek_version: 1,
    }
}

fn subject_row(tenant_id: &str, id: &str, status: &str) -> SubjectRow {
    SubjectRow {
        id: id.to_string(),
        tenant_id: tenant_id.to_string(),
        created_at: 1_700_000_000_001,
        birth_date: None,
        status: status.to_string(),
    }
}

/// Commit tenants and (tenant, subject, status) triples in one transaction.
async fn seed(store: &Store, tenants: &[&str], subjects: &[(&str, &str, &str)]) {
    let mut tx = write(store).await;
    for t in tenants {
        tx.insert_tenant(&tenant_row(t)).await.expect("seed tenant");
    }
    for (t, s, status) in subjects {
        tx.insert_subject(&subject_row(t, s, status))
            .await
            .expect("seed subject");
    }
    commit(tx).await;
}

/// A deterministic stand-in for the real (cryptographic) chain hash: every byte of
/// the previous hash, the sequence number and the entry influences the result.
fn test_chain(prev: &[u8; 32], seq: i64, e: &NewAudit) -> [u8; 32] {
    let mut h = *prev;
    h.rotate_left(3);
    for (i, b) in seq.to_le_bytes().iter().enumerate() {
        h[i] ^= b;
    }
    let mut mix = |i: usize, bytes: &[u8]| {
        for (j, b) in bytes.iter().enumerate() {
            let k = (i * 7 + j) % 32;
            h[k] = h[k].wrapping_mul(31).wrapping_add(*b);
        }
    };
    mix(1, &e.at.to_le_bytes());
    mix(2, e.tenant_id.as_deref().unwrap_or("\u{0}none").as_bytes());
    mix(3, e.actor.as_bytes());
    mix(4, e.action.as_bytes());
    mix(5, e.subject_id.as_deref().unwrap_or("\u{0}none").as_bytes());
    mix(6, e.purpose.as_deref().unwrap_or("\u{0}none").as_bytes());
    mix(7, e.detail.as_bytes());
    h[31] ^= 0x5A;
    h
}

fn audit_entry(
    at: i64,
    tenant: Option<&str>,
    action: &str,
    subject: Option<&str>,
    purpose: Option<&str>,
) -> NewAudit {
    NewAudit {
        at,
        tenant_id: tenant.map(str::to_string),
        actor: "op:alice".to_string(),
        action: action.to_string(),
        subject_id: subject.map(str::to_string),
        purpose: purpose.map(str::to_string),
        detail: format!(r#"{{"action":"{action}","n":{at}}}"#),
    }
}

/// Check that `rows` continue the chain from `from` without gaps, with hashes that
/// `test_chain` reproduces; returns the head they end on.
fn verify_chain(from: &AuditHead, rows: &[AuditRow]) -> AuditHead {
    let mut head = from.clone();
    for row in rows {
        assert_eq!(row.seq, head.seq + 1, "audit seq gap");
        let expected = test_chain(&head.hash, row.seq, &row.entry);
        assert_eq!(row.hash, expected.to_vec(), "audit hash at seq {}", row.seq);
        head = AuditHead {
            seq: row.seq,
            hash: expected,
        };
    }
    head
}

// ---------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------

async fn suite(store: &Store, backend: Backend) {
    check_backend_and_urls(store, backend).await;
    // First: the chain must still be at its genesis head.
    check_audit(store).await;
    check_tenants(store).await;
    check_meta(store).await;
    check_keks(store).await;
    check_subject_keys(store).await;
    check_api_keys(store).await;
    check_policies(store).await;
    check_subjects(store).await;
    check_identifiers(store).await;
    check_fields(store).await;
    check_consents(store).await;
    check_rollback(store).await;
    check_sequential_writers(store).await;
    check_read_isolation(store).await;
    check_concurrent_audit(store).await;
    check_concurrent_ledgers(store).await;
    check_blobs_and_integers(store).await;
    check_foreign_keys(store).await;
    store.checkpoint().await.expect("checkpoint");
}

async fn check_backend_and_urls(store: &Store, backend: Backend) {
    assert_eq!(store.backend(), backend);
    let tx = read(store).await;
    assert_eq!(tx.backend(), backend);
    tx.commit().await.expect("commit an empty read transaction");
    let tx = write(store).await;
    assert_eq!(tx.backend(), backend);
    commit(tx).await;

    assert_eq!(
        Backend::from_url("sqlite:///tmp/x.db").unwrap(),
        Backend::Sqlite
    );
    assert_eq!(
        Backend::from_url("sqlite::memory:").unwrap(),
        Backend::Sqlite
    );
    assert_eq!(
        Backend::from_url("postgres://u@h/db").unwrap(),
        Backend::Postgres
    );
    assert_eq!(
        Backend::from_url("postgresql://u@h/db").unwrap(),
        Backend::Postgres
    );
    assert_eq!(Backend::Sqlite.as_str(), "sqlite");
    assert_eq!(Backend::Postgres.as_str(), "postgres");
    assert!(matches!(
        Backend::from_url("mysql://u@h/db"),
        Err(StoreError::UnsupportedUrl)
    ));
    let err = Store::open("mysql://u@h/db").await.unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl), "{err:?}");
    assert_eq!(err.code(), "store_unavailable");
    assert!(!err.is_unique_violation());
}

async fn check_audit(store: &Store) {
    let genesis = AuditHead {
        seq: 0,
        hash: [0u8; 32],
    };
    let mut tx = read(store).await;
    assert_eq!(tx.audit_head().await.unwrap(), genesis, "genesis head");
    assert!(tx.audit_page(0, 100).await.unwrap().is_empty());
    drop(tx);

    let first = vec![
        audit_entry(1_000, Some("au-a"), "subject.create", Some("au-s1"), None),
        NewAudit {
            at: 1_001,
            tenant_id: None,
            actor: "system".to_string(),
            action: "server.start".to_string(),
            subject_id: None,
            purpose: None,
            detail: "{}".to_string(),
        },
        audit_entry(
            1_002,
            Some("au-a"),
            "field.read",
            Some("au-s1"),
            Some("billing"),
        ),
    ];
    let second = vec![
        audit_entry(
            FAR_FUTURE_MS,
            Some("au-b"),
            "subject.create",
            Some("au-s1"),
            None,
        ),
        NewAudit {
            at: i64::MAX,
            tenant_id: Some("au-a".to_string()),
            actor: "app:crm «ünïcode» 名前".to_string(),
            action: "consent.grant".to_string(),
            subject_id: Some("au-s1".to_string()),
            purpose: Some("marketing".to_string()),
            detail: r#"{"note":"quote \" backslash \\ newline \n"}"#.to_string(),
        },
    ];

    let mut tx = write(store).await;
    // Appending nothing returns the head unchanged and writes nothing.
    let head = tx.append_audit(&[], test_chain).await.unwrap();
    assert_eq!(head, genesis);
    let head = tx.append_audit(&first, test_chain).await.unwrap();
    assert_eq!(head.seq, 3);
    let mut expected = genesis.clone();
    for (i, e) in first.iter().enumerate() {
        let seq = i as i64 + 1;
        expected = AuditHead {
            seq,
            hash: test_chain(&expected.hash, seq, e),
        };
    }
    assert_eq!(head, expected, "append_audit returns the new head");
    // The head is visible inside the transaction that moved it.
    assert_eq!(tx.audit_head().await.unwrap(), head);
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.audit_head().await.unwrap(), head);
    drop(tx);

    let mut tx = write(store).await;
    let head = tx.append_audit(&second, test_chain).await.unwrap();
    assert_eq!(head.seq, 5);
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.audit_head().await.unwrap(), head);

    // Paging: seq > after, in order, at most limit.
    let seqs = |rows: &[AuditRow]| rows.iter().map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&tx.audit_page(0, 2).await.unwrap()), [1, 2]);
    assert_eq!(seqs(&tx.audit_page(2, 2).await.unwrap()), [3, 4]);
    assert_eq!(seqs(&tx.audit_page(4, 2).await.unwrap()), [5]);
    assert!(tx.audit_page(5, 2).await.unwrap().is_empty());
    assert!(tx.audit_page(0, 0).await.unwrap().is_empty());

    let all = tx.audit_page(0, 100).await.unwrap();
    assert_eq!(all.len(), 5);
    let entries: Vec<NewAudit> = all.iter().map(|r| r.entry.clone()).collect();
    let written: Vec<NewAudit> = first.iter().chain(second.iter()).cloned().collect();
    assert_eq!(entries, written, "audit entries round-trip exactly");
    assert_eq!(verify_chain(&genesis, &all), head);

    // One subject of one tenant, newest first.
    let by_subject = tx.audit_for_subject("au-a", "au-s1", 10).await.unwrap();
    assert_eq!(seqs(&by_subject), [5, 3, 1]);
    assert_eq!(by_subject[0], all[4]);
    let limited = tx.audit_for_subject("au-a", "au-s1", 2).await.unwrap();
    assert_eq!(seqs(&limited), [5, 3]);
    // Same subject id under another tenant is another person.
    let other = tx.audit_for_subject("au-b", "au-s1", 10).await.unwrap();
    assert_eq!(seqs(&other), [4]);
    assert!(
        tx.audit_for_subject("au-a", "au-s2", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tx.audit_for_subject("au-c", "au-s1", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn check_tenants(store: &Store) {
    let b = TenantRow {
        id: "tn-b".to_string(),
        name: "Beta GmbH".to_string(),
        role: "controller".to_string(),
        controller_name: None,
        controller_contact: None,
        created_at: FAR_FUTURE_MS,
        index_key: all_bytes(),
        kek_version: 1,
    };
    let a = TenantRow {
        id: "tn-a".to_string(),
        name: "Acme — Ünïcode 株式会社 'quoted'".to_string(),
        role: "processor".to_string(),
        controller_name: Some("Controller Ltd".to_string()),
        controller_contact: Some("dpo@controller.example".to_string()),
        created_at: 1,
        index_key: vec![0u8; 32],
        kek_version: 7,
    };
    let mut tx = write(store).await;
    tx.insert_tenant(&b).await.unwrap();
    tx.insert_tenant(&a).await.unwrap();
    assert_eq!(tx.tenant("tn-a").await.unwrap().as_ref(), Some(&a));
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.tenant("tn-a").await.unwrap(), Some(a.clone()));
    assert_eq!(tx.tenant("tn-b").await.unwrap(), Some(b.clone()));
    assert_eq!(tx.tenant("tn-missing").await.unwrap(), None);
    let all = tx.tenants().await.unwrap();
    let ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "tenants() is ordered by id");
    let mine: Vec<TenantRow> = all
        .into_iter()
        .filter(|t| t.id.starts_with("tn-"))
        .collect();
    assert_eq!(mine, [a.clone(), b.clone()]);
    drop(tx);

    // A second tenant with the same id is a conflict, and changes nothing.
    let mut tx = write(store).await;
    let dup = TenantRow {
        name: "Impostor".to_string(),
        ..b.clone()
    };
    let err = tx.insert_tenant(&dup).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("tenant")), "{err:?}");
    assert!(err.is_unique_violation());
    assert_eq!(err.code(), "conflict");
    drop(tx);

    let mut tx = write(store).await;
    tx.set_tenant_kek_version("tn-b", 2).await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    let got = tx.tenant("tn-b").await.unwrap().unwrap();
    assert_eq!(
        got,
        TenantRow {
            kek_version: 2,
            ..b.clone()
        }
    );
    assert_eq!(
        tx.tenant("tn-a").await.unwrap(),
        Some(a),
        "other tenant untouched"
    );
}

async fn check_meta(store: &Store) {
    let mut tx = read(store).await;
    assert_eq!(tx.meta("mt-key").await.unwrap(), None);
    drop(tx);

    let mut tx = write(store).await;
    tx.put_meta("mt-key", b"one").await.unwrap();
    assert_eq!(tx.meta("mt-key").await.unwrap(), Some(b"one".to_vec()));
    tx.put_meta("mt-key", b"two").await.unwrap();
    assert_eq!(tx.meta("mt-key").await.unwrap(), Some(b"two".to_vec()));
    tx.put_meta("mt-other", b"other").await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.meta("mt-key").await.unwrap(), Some(b"two".to_vec()));
    drop(tx);

    // Overwrite an existing, committed key in a later transaction.
    let mut tx = write(store).await;
    tx.put_meta("mt-key", b"three, longer than before")
        .await
        .unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.meta("mt-key").await.unwrap(),
        Some(b"three, longer than before".to_vec())
    );
    assert_eq!(tx.meta("mt-other").await.unwrap(), Some(b"other".to_vec()));
    // Keys are exact, not prefixes.
    assert_eq!(tx.meta("mt-ke").await.unwrap(), None);
    assert_eq!(tx.meta("MT-KEY").await.unwrap(), None);
}

async fn check_keks(store: &Store) {
    seed(store, &["kk-a", "kk-b"], &[]).await;
    let v1 = KekRow {
        tenant_id: "kk-a".to_string(),
        version: 1,
        wrapped: all_bytes(),
        created_at: 1_000,
        retired_at: None,
    };
    let v2 = KekRow {
        tenant_id: "kk-a".to_string(),
        version: 2,
        wrapped: vec![0x22; 60],
        created_at: FAR_FUTURE_MS,
        retired_at: None,
    };
    let mut tx = write(store).await;
    // Inserted out of order; listed by version.
    tx.insert_kek(&v2).await.unwrap();
    tx.insert_kek(&v1).await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.keks("kk-a").await.unwrap(), [v1.clone(), v2.clone()]);
    assert!(tx.keks("kk-b").await.unwrap().is_empty());
    assert!(tx.keks("kk-missing").await.unwrap().is_empty());
    drop(tx);

    // The same version twice: a uniqueness violation (not mapped to Conflict).
    let mut tx = write(store).await;
    let err = tx
        .insert_kek(&KekRow {
            wrapped: vec![9; 4],
            ..v1.clone()
        })
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
    assert_eq!(err.code(), "store_error");
    drop(tx);

    let mut tx = write(store).await;
    tx.retire_kek("kk-a", 1, 5_000).await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    let keks = tx.keks("kk-a").await.unwrap();
    assert_eq!(
        keks,
        [
            KekRow {
                wrapped: Vec::new(),
                retired_at: Some(5_000),
                ..v1
            },
            v2
        ],
        "retiring destroys the wrapped bytes of that version only"
    );
}

async fn check_subject_keys(store: &Store) {
    let mut subjects: Vec<(&str, &str, &str)> =
        ["sk-s3", "sk-s1", "sk-s5", "sk-s2", "sk-s4", "sk-s6"]
            .iter()
            .map(|s| ("sk-a", *s, "active"))
            .collect();
    subjects.push(("sk-b", "sk-s7", "active"));
    seed(store, &["sk-a", "sk-b"], &subjects).await;

    let key = |t: &str, s: &str, v: i64| SubjectKeyRow {
        subject_id: s.to_string(),
        tenant_id: t.to_string(),
        kek_version: v,
        wrapped: format!("wrapped:{s}:v{v}\u{0}\u{ff}").into_bytes(),
    };
    let mut tx = write(store).await;
    for (t, v) in [("sk-a", 1), ("sk-a", 2), ("sk-b", 1), ("sk-b", 2)] {
        tx.insert_kek(&KekRow {
            tenant_id: t.to_string(),
            version: v,
            wrapped: vec![7; 57],
            created_at: 0,
            retired_at: None,
        })
        .await
        .unwrap();
    }
    // A subject key may only be wrapped with a live KEK: a retired one is stale.
    tx.retire_kek("sk-b", 2, 1).await.unwrap();
    let err = tx
        .insert_subject_key(&key("sk-b", "sk-s7", 2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale(_)), "{err:?}");
    assert_eq!(err.code(), "stale");
    let err = tx
        .insert_subject_key(&key("sk-b", "sk-s7", 9))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale(_)), "{err:?}");
    // Inserted out of order; paged by subject id.
    for s in ["sk-s3", "sk-s1", "sk-s5", "sk-s2", "sk-s4"] {
        tx.insert_subject_key(&key("sk-a", s, 1)).await.unwrap();
    }
    tx.insert_subject_key(&key("sk-a", "sk-s6", 2))
        .await
        .unwrap();
    tx.insert_subject_key(&key("sk-b", "sk-s7", 1))
        .await
        .unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.subject_key("sk-a", "sk-s1").await.unwrap(),
        Some(key("sk-a", "sk-s1", 1))
    );
    assert_eq!(
        tx.subject_key("sk-a", "sk-s6").await.unwrap(),
        Some(key("sk-a", "sk-s6", 2))
    );
    // Another tenant's subject key is not found.
    assert_eq!(tx.subject_key("sk-b", "sk-s1").await.unwrap(), None);
    assert_eq!(tx.subject_key("sk-a", "sk-s7").await.unwrap(), None);
    assert_eq!(tx.subject_key("sk-a", "sk-missing").await.unwrap(), None);
    assert!(
        tx.subject_keys_below("sk-a", 1, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let below = tx.subject_keys_below("sk-a", 2, 100).await.unwrap();
    let expected: Vec<SubjectKeyRow> = ["sk-s1", "sk-s2", "sk-s3", "sk-s4", "sk-s5"]
        .iter()
        .map(|s| key("sk-a", s, 1))
        .collect();
    assert_eq!(
        below, expected,
        "only this tenant, only older versions, by id"
    );
    drop(tx);

    // Rotation: page through the old keys, rewrapping each page.
    let mut pages = Vec::new();
    loop {
        let mut tx = write(store).await;
        let page = tx.subject_keys_below("sk-a", 2, 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        for k in &page {
            tx.rewrap_subject_key(&k.subject_id, 1, 2, &key("sk-a", &k.subject_id, 2).wrapped)
                .await
                .unwrap();
        }
        commit(tx).await;
        pages.push(page.into_iter().map(|k| k.subject_id).collect::<Vec<_>>());
        assert!(pages.len() <= 3, "paging does not terminate");
    }
    assert_eq!(
        pages,
        [
            vec!["sk-s1", "sk-s2"],
            vec!["sk-s3", "sk-s4"],
            vec!["sk-s5"]
        ]
    );

    let mut tx = read(store).await;
    for s in ["sk-s1", "sk-s2", "sk-s3", "sk-s4", "sk-s5", "sk-s6"] {
        assert_eq!(
            tx.subject_key("sk-a", s).await.unwrap(),
            Some(key("sk-a", s, 2))
        );
    }
    assert_eq!(
        tx.subject_key("sk-b", "sk-s7").await.unwrap(),
        Some(key("sk-b", "sk-s7", 1)),
        "other tenant's keys are not rotated"
    );
    drop(tx);

    // A rewrap from a version the key is no longer at: the key changed underneath.
    let mut tx = write(store).await;
    let err = tx
        .rewrap_subject_key("sk-s1", 1, 3, b"stale")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert_eq!(err.code(), "store_corrupt");
    assert!(!err.is_unique_violation());
    let err = tx
        .rewrap_subject_key("sk-missing", 1, 2, b"x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        tx.subject_key("sk-a", "sk-s1").await.unwrap(),
        Some(key("sk-a", "sk-s1", 2))
    );
}

async fn check_api_keys(store: &Store) {
    seed(store, &["ak-t"], &[]).await;
    let k3 = ApiKeyRow {
        id: "ak-3".to_string(),
        tenant_id: Some("ak-t".to_string()),
        role: "app".to_string(),
        purposes: Some(r#"["billing","support"]"#.to_string()),
        secret_hash: all_bytes(),
        label: Some("CRM — production".to_string()),
        created_at: 50,
        revoked_at: None,
    };
    let k2 = ApiKeyRow {
        id: "ak-2".to_string(),
        tenant_id: None,
        role: "operator".to_string(),
        purposes: None,
        secret_hash: vec![0u8; 32],
        label: None,
        created_at: 100,
        revoked_at: Some(FAR_FUTURE_MS),
    };
    let k1 = ApiKeyRow {
        id: "ak-1".to_string(),
        tenant_id: Some("ak-t".to_string()),
        role: "admin".to_string(),
        purposes: None,
        secret_hash: vec![0xFF; 32],
        label: Some(String::new()),
        created_at: 100,
        revoked_at: None,
    };
    let mut tx = write(store).await;
    for k in [&k3, &k2, &k1] {
        tx.insert_api_key(k).await.unwrap();
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.api_key("ak-2").await.unwrap(), Some(k2.clone()));
    assert_eq!(tx.api_key("ak-3").await.unwrap(), Some(k3.clone()));
    assert_eq!(tx.api_key("ak-missing").await.unwrap(), None);
    // Ordered by creation time, then id (which is not the id order).
    assert_eq!(tx.api_keys().await.unwrap(), [k3, k1.clone(), k2]);
    drop(tx);

    let mut tx = write(store).await;
    let err = tx.insert_api_key(&k1).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
}

async fn check_policies(store: &Store) {
    seed(store, &["po-a", "po-b"], &[]).await;
    let policy = |t: &str, date: &str, at: i64| PolicyRow {
        tenant_id: t.to_string(),
        version: 0, // assigned by insert_policy
        effective_date: date.to_string(),
        source: format!("# policy for {t}\nname: \"Ünïcode ✓\"\npurposes:\n  - id: billing\n"),
        compiled: format!(r#"{{"tenant":"{t}","date":"{date}"}}"#),
        published_at: at,
        published_by: "op:alice".to_string(),
    };
    let a1 = policy("po-a", "2025-01-01", 1_000);
    let b1 = policy("po-b", "2025-02-01", 1_500);
    let a2 = policy("po-a", "2026-01-01", FAR_FUTURE_MS);

    let mut tx = read(store).await;
    assert_eq!(tx.current_policy("po-a").await.unwrap(), None);
    assert!(tx.policy_versions("po-a").await.unwrap().is_empty());
    drop(tx);

    let mut tx = write(store).await;
    assert_eq!(tx.insert_policy(&a1).await.unwrap(), 1);
    assert_eq!(
        tx.insert_policy(&b1).await.unwrap(),
        1,
        "versions are per tenant"
    );
    commit(tx).await;
    let mut tx = write(store).await;
    assert_eq!(tx.insert_policy(&a2).await.unwrap(), 2);
    commit(tx).await;

    let with_version = |p: &PolicyRow, v: i64| PolicyRow {
        version: v,
        ..p.clone()
    };
    let mut tx = read(store).await;
    assert_eq!(
        tx.current_policy("po-a").await.unwrap(),
        Some(with_version(&a2, 2))
    );
    assert_eq!(
        tx.current_policy("po-b").await.unwrap(),
        Some(with_version(&b1, 1))
    );
    assert_eq!(tx.current_policy("po-missing").await.unwrap(), None);
    assert_eq!(
        tx.policy_version("po-a", 1).await.unwrap(),
        Some(with_version(&a1, 1))
    );
    assert_eq!(
        tx.policy_version("po-a", 2).await.unwrap(),
        Some(with_version(&a2, 2))
    );
    assert_eq!(tx.policy_version("po-a", 3).await.unwrap(), None);
    assert_eq!(tx.policy_version("po-b", 2).await.unwrap(), None);
    assert_eq!(
        tx.policy_versions("po-a").await.unwrap(),
        [
            (1, "2025-01-01".to_string(), 1_000),
            (2, "2026-01-01".to_string(), FAR_FUTURE_MS)
        ]
    );
    assert_eq!(
        tx.policy_versions("po-b").await.unwrap(),
        [(1, "2025-02-01".to_string(), 1_500)]
    );
}

async fn check_subjects(store: &Store) {
    seed(store, &["su-a", "su-b"], &[]).await;
    let s1 = SubjectRow {
        birth_date: Some(all_bytes()),
        ..subject_row("su-a", "su-1", "active")
    };
    let s2 = subject_row("su-a", "su-2", "active");
    // An empty blob is a value, distinct from NULL.
    let s3 = SubjectRow {
        birth_date: Some(Vec::new()),
        created_at: FAR_FUTURE_MS,
        ..subject_row("su-a", "su-3", "erased")
    };
    let s4 = subject_row("su-b", "su-4", "active");

    let mut tx = write(store).await;
    for s in [&s1, &s2, &s3, &s4] {
        tx.insert_subject(s).await.unwrap();
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.subject("su-a", "su-1").await.unwrap(), Some(s1.clone()));
    assert_eq!(tx.subject("su-a", "su-2").await.unwrap(), Some(s2));
    assert_eq!(tx.subject("su-a", "su-3").await.unwrap(), Some(s3));
    assert_eq!(tx.subject("su-b", "su-4").await.unwrap(), Some(s4));
    // Another tenant's subject is simply not found.
    assert_eq!(tx.subject("su-b", "su-1").await.unwrap(), None);
    assert_eq!(tx.subject("su-a", "su-4").await.unwrap(), None);
    assert_eq!(tx.subject("su-a", "su-missing").await.unwrap(), None);
    assert_eq!(tx.count_subjects("su-a").await.unwrap(), 3);
    assert_eq!(tx.count_subjects("su-b").await.unwrap(), 1);
    assert_eq!(tx.count_subjects("su-missing").await.unwrap(), 0);
    drop(tx);

    let mut tx = write(store).await;
    let err = tx.insert_subject(&s1).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
}

async fn check_identifiers(store: &Store) {
    seed(
        store,
        &["id-a", "id-b"],
        &[
            ("id-a", "id-s1", "active"),
            ("id-a", "id-s2", "erased"),
            ("id-b", "id-s3", "active"),
            ("id-a", "id-s4", "active"),
        ],
    )
    .await;
    // Blind indexes with NUL and high bytes throughout.
    let bidx1: Vec<u8> = (0..32u8)
        .map(|i| if i % 2 == 0 { 0 } else { 0xFF ^ i })
        .collect();
    let bidx2: Vec<u8> = (0..32u8).map(|i| 0x80 | i).collect();
    let bidx3: Vec<u8> = vec![0u8; 32];
    let ident = |t: &str, kind: &str, bidx: &[u8], s: &str| IdentifierRow {
        tenant_id: t.to_string(),
        kind: kind.to_string(),
        bidx: bidx.to_vec(),
        subject_id: s.to_string(),
        value: format!("sealed({s}/{kind})\u{0}").into_bytes(),
    };
    let s1_phone = ident("id-a", "phone", &bidx2, "id-s1");
    let s1_email = ident("id-a", "email", &bidx1, "id-s1");
    let s2_email = ident("id-a", "email", &bidx3, "id-s2");
    // The same identifier in another tenant belongs to another person: allowed.
    let s3_email = ident("id-b", "email", &bidx1, "id-s3");

    let mut tx = write(store).await;
    for i in [&s1_phone, &s1_email, &s2_email, &s3_email] {
        tx.insert_identifier(i).await.unwrap();
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.lookup("id-a", "email", &bidx1).await.unwrap().as_deref(),
        Some("id-s1")
    );
    assert_eq!(
        tx.lookup("id-a", "phone", &bidx2).await.unwrap().as_deref(),
        Some("id-s1")
    );
    assert_eq!(
        tx.lookup("id-b", "email", &bidx1).await.unwrap().as_deref(),
        Some("id-s3")
    );
    // Other tenant, other kind, truncated or unknown index: not found.
    assert_eq!(tx.lookup("id-b", "phone", &bidx2).await.unwrap(), None);
    assert_eq!(tx.lookup("id-c", "email", &bidx1).await.unwrap(), None);
    assert_eq!(tx.lookup("id-a", "phone", &bidx1).await.unwrap(), None);
    assert_eq!(
        tx.lookup("id-a", "email", &bidx1[..31]).await.unwrap(),
        None
    );
    assert_eq!(tx.lookup("id-a", "email", &bidx1[..1]).await.unwrap(), None);
    assert_eq!(tx.lookup("id-a", "email", &[]).await.unwrap(), None);
    // A subject that is not active is not found by its identifier.
    assert_eq!(tx.lookup("id-a", "email", &bidx3).await.unwrap(), None);

    // Listed by kind, only this tenant's.
    assert_eq!(
        tx.identifiers("id-a", "id-s1").await.unwrap(),
        [s1_email.clone(), s1_phone.clone()]
    );
    assert_eq!(tx.identifiers("id-a", "id-s2").await.unwrap(), [s2_email]);
    assert_eq!(tx.identifiers("id-b", "id-s3").await.unwrap(), [s3_email]);
    assert!(tx.identifiers("id-b", "id-s1").await.unwrap().is_empty());
    assert!(tx.identifiers("id-a", "id-s4").await.unwrap().is_empty());
    drop(tx);

    // A second subject with the same identifier in the same tenant: conflict.
    let mut tx = write(store).await;
    let err = tx
        .insert_identifier(&ident("id-a", "email", &bidx1, "id-s4"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("a subject with this identifier")),
        "{err:?}"
    );
    assert!(err.is_unique_violation());
    assert_eq!(err.code(), "conflict");
    drop(tx);

    // Even one held by an erased subject still occupies its slot.
    let mut tx = write(store).await;
    let err = tx
        .insert_identifier(&ident("id-a", "email", &bidx3, "id-s4"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        tx.lookup("id-a", "email", &bidx1).await.unwrap().as_deref(),
        Some("id-s1"),
        "the failed insert changed nothing"
    );
    assert!(tx.identifiers("id-a", "id-s4").await.unwrap().is_empty());
}

async fn check_fields(store: &Store) {
    seed(
        store,
        &["fi-a", "fi-b"],
        &[("fi-a", "fi-s", "active"), ("fi-a", "fi-t", "active")],
    )
    .await;
    let field =
        |id: &str, category: &str, at: i64, version: i64, supersedes: Option<&str>| FieldRow {
            id: id.to_string(),
            tenant_id: "fi-a".to_string(),
            subject_id: "fi-s".to_string(),
            category: category.to_string(),
            purposes: r#"["billing"]"#.to_string(),
            source: "form:signup".to_string(),
            store: "vault".to_string(),
            collected_at: at,
            value: format!("sealed:{id}\u{0}\u{1}").into_bytes(),
            version,
            supersedes: supersedes.map(str::to_string),
            superseded_at: None,
        };
    let email1 = field("fi-f1", "email", 1_000, 1, None);
    let address = FieldRow {
        value: all_bytes(),
        ..field("fi-f2", "address", 2_000, 1, None)
    };
    let other_subject = FieldRow {
        subject_id: "fi-t".to_string(),
        ..field("fi-f9", "email", 500, 1, None)
    };
    let mut tx = write(store).await;
    for f in [&email1, &address, &other_subject] {
        tx.insert_field(f).await.unwrap();
    }
    commit(tx).await;

    let mut tx = read(store).await;
    // By category, then collection time.
    assert_eq!(
        tx.current_fields("fi-a", "fi-s").await.unwrap(),
        [address.clone(), email1.clone()]
    );
    assert_eq!(
        tx.current_fields("fi-a", "fi-t").await.unwrap(),
        [other_subject]
    );
    assert!(tx.current_fields("fi-b", "fi-s").await.unwrap().is_empty());
    assert!(tx.all_fields("fi-b", "fi-s").await.unwrap().is_empty());
    drop(tx);

    // A correction: supersede the old row, insert its replacement.
    let email2 = FieldRow {
        collected_at: FAR_FUTURE_MS,
        ..field("fi-f3", "email", 3_000, 2, Some("fi-f1"))
    };
    let mut tx = write(store).await;
    tx.supersede_field("fi-a", "fi-f1", 3_000).await.unwrap();
    assert_eq!(
        tx.current_fields("fi-a", "fi-s").await.unwrap(),
        std::slice::from_ref(&address),
        "read-your-writes inside the transaction"
    );
    tx.insert_field(&email2).await.unwrap();
    commit(tx).await;

    let email1_old = FieldRow {
        superseded_at: Some(3_000),
        ..email1.clone()
    };
    let mut tx = read(store).await;
    assert_eq!(
        tx.current_fields("fi-a", "fi-s").await.unwrap(),
        [address.clone(), email2.clone()]
    );
    // History: by category, then version.
    assert_eq!(
        tx.all_fields("fi-a", "fi-s").await.unwrap(),
        [address.clone(), email1_old.clone(), email2.clone()]
    );
    drop(tx);

    // Superseding twice: the second correction loses.
    let mut tx = write(store).await;
    let err = tx
        .supersede_field("fi-a", "fi-f1", 4_000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(err.code(), "conflict");
    drop(tx);
    // Another tenant cannot supersede this tenant's field; unknown ids conflict too.
    let mut tx = write(store).await;
    let err = tx
        .supersede_field("fi-b", "fi-f3", 4_000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = tx
        .supersede_field("fi-a", "fi-missing", 4_000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        tx.all_fields("fi-a", "fi-s").await.unwrap(),
        [address, email1_old, email2],
        "failed supersedes changed nothing"
    );
}

async fn check_consents(store: &Store) {
    seed(
        store,
        &["co-a", "co-b"],
        &[("co-a", "co-s1", "active"), ("co-a", "co-s2", "active")],
    )
    .await;
    let consent = |id: &str, s: &str, purpose: &str, action: &str| ConsentRow {
        id: id.to_string(),
        tenant_id: "co-a".to_string(),
        subject_id: s.to_string(),
        seq: 0, // assigned by append_consent
        purpose: purpose.to_string(),
        action: action.to_string(),
        kind: "explicit".to_string(),
        at: 1_000,
        expires_at: None,
        policy_version: 1,
        parent_subject_id: None,
        evidence: None,
        recorded_at: 1_001,
        recorded_by: "app:crm".to_string(),
    };
    // Ids deliberately out of alphabetical order: the ledger is ordered by seq.
    let c1 = ConsentRow {
        evidence: Some(all_bytes()),
        expires_at: Some(FAR_FUTURE_MS),
        ..consent("co-z", "co-s1", "marketing", "grant")
    };
    let d1 = ConsentRow {
        parent_subject_id: Some("co-s1".to_string()),
        evidence: Some(Vec::new()),
        ..consent("co-m", "co-s2", "marketing", "grant")
    };
    let c2 = ConsentRow {
        at: 2_000,
        expires_at: Some(i64::MAX),
        policy_version: 2,
        ..consent("co-a", "co-s1", "analytics", "grant")
    };
    let c3 = ConsentRow {
        at: 3_000,
        ..consent("co-k", "co-s1", "marketing", "withdraw")
    };

    let mut tx = write(store).await;
    assert_eq!(tx.append_consent(&c1).await.unwrap(), 1);
    assert_eq!(
        tx.append_consent(&d1).await.unwrap(),
        1,
        "per-subject sequence"
    );
    assert_eq!(tx.append_consent(&c2).await.unwrap(), 2);
    commit(tx).await;
    let mut tx = write(store).await;
    assert_eq!(tx.append_consent(&c3).await.unwrap(), 3);
    commit(tx).await;

    let with_seq = |c: &ConsentRow, seq: i64| ConsentRow { seq, ..c.clone() };
    let mut tx = read(store).await;
    assert_eq!(
        tx.consents("co-a", "co-s1").await.unwrap(),
        [with_seq(&c1, 1), with_seq(&c2, 2), with_seq(&c3, 3)]
    );
    assert_eq!(
        tx.consents("co-a", "co-s2").await.unwrap(),
        [with_seq(&d1, 1)]
    );
    assert!(tx.consents("co-b", "co-s1").await.unwrap().is_empty());
    assert!(tx.consents("co-a", "co-missing").await.unwrap().is_empty());
}

async fn check_rollback(store: &Store) {
    let mut tx = read(store).await;
    let head = tx.audit_head().await.unwrap();
    drop(tx);

    let mut tx = write(store).await;
    tx.insert_tenant(&tenant_row("rb-t")).await.unwrap();
    tx.insert_subject(&subject_row("rb-t", "rb-s", "active"))
        .await
        .unwrap();
    tx.put_meta("rb-key", b"uncommitted").await.unwrap();
    tx.put_meta("mt-key", b"clobbered").await.unwrap();
    let moved = tx
        .append_audit(
            &[audit_entry(
                9,
                Some("rb-t"),
                "rollback.me",
                Some("rb-s"),
                None,
            )],
            test_chain,
        )
        .await
        .unwrap();
    assert_eq!(moved.seq, head.seq + 1);
    assert!(tx.tenant("rb-t").await.unwrap().is_some());
    drop(tx); // no commit: rolled back

    let mut tx = read(store).await;
    assert_eq!(tx.tenant("rb-t").await.unwrap(), None);
    assert_eq!(tx.subject("rb-t", "rb-s").await.unwrap(), None);
    assert_eq!(tx.meta("rb-key").await.unwrap(), None);
    assert_eq!(
        tx.meta("mt-key").await.unwrap(),
        Some(b"three, longer than before".to_vec())
    );
    assert_eq!(tx.audit_head().await.unwrap(), head);
    assert!(tx.audit_page(head.seq, 10).await.unwrap().is_empty());
    drop(tx);

    // Nothing is left behind to conflict with, and no lock is still held.
    let mut tx = write(store).await;
    tx.insert_tenant(&tenant_row("rb-t")).await.unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(tx.tenant("rb-t").await.unwrap(), Some(tenant_row("rb-t")));
}

async fn check_sequential_writers(store: &Store) {
    let mut tx = write(store).await;
    tx.insert_tenant(&tenant_row("sw-t")).await.unwrap();
    tx.put_meta("sw-key", b"1").await.unwrap();
    commit(tx).await;

    let mut tx = write(store).await;
    assert_eq!(tx.meta("sw-key").await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(tx.tenant("sw-t").await.unwrap(), Some(tenant_row("sw-t")));
    tx.put_meta("sw-key", b"2").await.unwrap();
    tx.set_tenant_kek_version("sw-t", 5).await.unwrap();
    commit(tx).await;

    let mut tx = write(store).await;
    assert_eq!(tx.meta("sw-key").await.unwrap(), Some(b"2".to_vec()));
    assert_eq!(tx.tenant("sw-t").await.unwrap().unwrap().kek_version, 5);
    commit(tx).await;
}

async fn check_read_isolation(store: &Store) {
    let mut writer = write(store).await;
    writer.put_meta("ri-key", b"pending").await.unwrap();

    // A concurrent reader does not see uncommitted writes.
    let mut reader = read(store).await;
    assert_eq!(reader.meta("ri-key").await.unwrap(), None);
    drop(reader);

    commit(writer).await;
    let mut reader = read(store).await;
    assert_eq!(
        reader.meta("ri-key").await.unwrap(),
        Some(b"pending".to_vec())
    );
}

async fn check_concurrent_audit(store: &Store) {
    const TASKS: usize = 4;
    const ROUNDS: usize = 5;
    let mut tx = read(store).await;
    let start = tx.audit_head().await.unwrap();
    drop(tx);

    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let mut tx = store.write().await.expect("write");
                let entry = NewAudit {
                    at: 10_000 + round as i64,
                    tenant_id: Some("ca-t".to_string()),
                    actor: format!("task-{task}"),
                    action: "concurrent.append".to_string(),
                    subject_id: Some(format!("ca-s{task}")),
                    purpose: None,
                    detail: format!(r#"{{"round":{round}}}"#),
                };
                tx.append_audit(std::slice::from_ref(&entry), test_chain)
                    .await
                    .expect("append");
                tx.commit().await.expect("commit");
            }
        }));
    }
    for h in handles {
        h.await.expect("writer task");
    }

    let mut tx = read(store).await;
    let head = tx.audit_head().await.unwrap();
    assert_eq!(head.seq, start.seq + (TASKS * ROUNDS) as i64);
    let rows = tx.audit_page(start.seq, 1_000).await.unwrap();
    assert_eq!(rows.len(), TASKS * ROUNDS);
    assert_eq!(verify_chain(&start, &rows), head, "one unbroken chain");
    for task in 0..TASKS {
        let details: Vec<&str> = rows
            .iter()
            .filter(|r| r.entry.actor == format!("task-{task}"))
            .map(|r| r.entry.detail.as_str())
            .collect();
        let expected: Vec<String> = (0..ROUNDS).map(|r| format!(r#"{{"round":{r}}}"#)).collect();
        assert_eq!(details, expected, "each writer's entries, once, in order");
    }
}

/// Concurrent writers numbering rows per subject (consents) and per tenant
/// (policies) all succeed and get distinct, gap-free numbers, used as the engine
/// uses them: the numbered row first, then the audit entry, in one transaction.
async fn check_concurrent_ledgers(store: &Store) {
    const TASKS: usize = 4;
    const ROUNDS: usize = 4;
    seed(store, &["cl-t"], &[("cl-t", "cl-s", "active")]).await;

    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let mut tx = store.write().await.expect("write");
                let seq = tx
                    .append_consent(&ConsentRow {
                        id: format!("cl-c-{task}-{round}"),
                        tenant_id: "cl-t".to_string(),
                        subject_id: "cl-s".to_string(),
                        seq: 0,
                        purpose: "marketing".to_string(),
                        action: "grant".to_string(),
                        kind: "explicit".to_string(),
                        at: round as i64,
                        expires_at: None,
                        policy_version: 1,
                        parent_subject_id: None,
                        evidence: None,
                        recorded_at: round as i64,
                        recorded_by: format!("task-{task}"),
                    })
                    .await
                    .expect("append_consent under concurrency");
                let entry = audit_entry(
                    seq,
                    Some("cl-t"),
                    "consent.grant",
                    Some("cl-s"),
                    Some("marketing"),
                );
                tx.append_audit(&[entry], test_chain).await.expect("append");
                tx.commit().await.expect("commit");

                let mut tx = store.write().await.expect("write");
                let version = tx
                    .insert_policy(&PolicyRow {
                        tenant_id: "cl-t".to_string(),
                        version: 0,
                        effective_date: "2025-01-01".to_string(),
                        source: format!("task {task} round {round}"),
                        compiled: "{}".to_string(),
                        published_at: round as i64,
                        published_by: format!("task-{task}"),
                    })
                    .await
                    .expect("insert_policy under concurrency");
                let entry = audit_entry(version, Some("cl-t"), "policy.publish", None, None);
                tx.append_audit(&[entry], test_chain).await.expect("append");
                tx.commit().await.expect("commit");
                assert!(seq >= 1 && version >= 1);
            }
        }));
    }
    for h in handles {
        h.await.expect("writer task");
    }

    let n = (TASKS * ROUNDS) as i64;
    let mut tx = read(store).await;
    let seqs: Vec<i64> = tx
        .consents("cl-t", "cl-s")
        .await
        .unwrap()
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    let versions: Vec<i64> = tx
        .policy_versions("cl-t")
        .await
        .unwrap()
        .iter()
        .map(|v| v.0)
        .collect();
    assert_eq!(versions, (1..=n).collect::<Vec<_>>());
}

async fn check_blobs_and_integers(store: &Store) {
    let big: Vec<u8> = (0..(1usize << 20))
        .map(|i| (i * 7 + i / 256) as u8)
        .collect();
    let blobs: [(&str, Vec<u8>); 6] = [
        ("bl-all", all_bytes()),
        ("bl-all-rev", all_bytes().into_iter().rev().collect()),
        ("bl-empty", Vec::new()),
        ("bl-nul", vec![0u8]),
        ("bl-zeros", vec![0u8; 1024]),
        ("bl-big", big),
    ];
    let mut tx = write(store).await;
    for (k, v) in &blobs {
        tx.put_meta(k, v).await.unwrap();
    }
    commit(tx).await;
    let mut tx = read(store).await;
    for (k, v) in &blobs {
        let got = tx.meta(k).await.unwrap();
        assert_eq!(got.as_ref(), Some(v), "blob {k} round-trips byte-exact");
    }
    drop(tx);

    // Integers beyond 32 bits, and the extremes.
    let t = TenantRow {
        created_at: FAR_FUTURE_MS,
        kek_version: i64::MAX,
        ..tenant_row("in-t")
    };
    let s = SubjectRow {
        created_at: i64::MIN,
        ..subject_row("in-t", "in-s", "active")
    };
    let k = KekRow {
        tenant_id: "in-t".to_string(),
        version: FAR_FUTURE_MS,
        wrapped: vec![1],
        created_at: -1,
        retired_at: Some(i64::MAX),
    };
    let f = FieldRow {
        id: "in-f".to_string(),
        tenant_id: "in-t".to_string(),
        subject_id: "in-s".to_string(),
        category: "c".to_string(),
        purposes: "[]".to_string(),
        source: "s".to_string(),
        store: "vault".to_string(),
        collected_at: FAR_FUTURE_MS,
        value: Vec::new(),
        version: i64::MAX,
        supersedes: None,
        superseded_at: None,
    };
    let mut tx = write(store).await;
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_subject(&s).await.unwrap();
    tx.insert_kek(&k).await.unwrap();
    tx.insert_field(&f).await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.tenant("in-t").await.unwrap(), Some(t));
    assert_eq!(tx.subject("in-t", "in-s").await.unwrap(), Some(s));
    assert_eq!(tx.keks("in-t").await.unwrap(), [k]);
    assert_eq!(tx.current_fields("in-t", "in-s").await.unwrap(), [f]);
    drop(tx);

    let mut tx = write(store).await;
    tx.supersede_field("in-t", "in-f", FAR_FUTURE_MS + 1)
        .await
        .unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    let all = tx.all_fields("in-t", "in-s").await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].superseded_at, Some(FAR_FUTURE_MS + 1));
    assert!(tx.current_fields("in-t", "in-s").await.unwrap().is_empty());
}

/// References are enforced on both backends (on SQLite: `PRAGMA foreign_keys`).
async fn check_foreign_keys(store: &Store) {
    let mut tx = write(store).await;
    let err = tx
        .insert_subject(&subject_row("fk-no-such-tenant", "fk-s", "active"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
    assert!(!err.is_unique_violation());
    assert_eq!(err.code(), "store_error");
    drop(tx);

    let mut tx = write(store).await;
    let err = tx
        .insert_kek(&KekRow {
            tenant_id: "fk-no-such-tenant".to_string(),
            version: 1,
            wrapped: vec![1],
            created_at: 0,
            retired_at: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
    drop(tx);

    let mut tx = write(store).await;
    let err = tx
        .insert_subject_key(&SubjectKeyRow {
            subject_id: "fk-no-such-subject".to_string(),
            tenant_id: "tn-a".to_string(),
            kek_version: 1,
            wrapped: vec![1],
        })
        .await
        .unwrap_err();
    // Refused either by the live-KEK check or by the foreign key: never stored.
    assert!(
        matches!(err, StoreError::Db(_) | StoreError::Stale(_)),
        "{err:?}"
    );
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(tx.subject("fk-no-such-tenant", "fk-s").await.unwrap(), None);
    assert!(tx.keks("fk-no-such-tenant").await.unwrap().is_empty());
}

/// After a reopen (migrations already applied), the data is still there.
async fn check_reopened(store: &Store) {
    let mut tx = read(store).await;
    assert!(tx.tenant("tn-a").await.unwrap().is_some());
    assert_eq!(tx.api_keys().await.unwrap().len(), 3);
    let head = tx.audit_head().await.unwrap();
    let rows = tx.audit_page(0, 10_000).await.unwrap();
    let genesis = AuditHead {
        seq: 0,
        hash: [0u8; 32],
    };
    assert_eq!(verify_chain(&genesis, &rows), head);
}

// ---------------------------------------------------------------------------
// SQLite specifics
// ---------------------------------------------------------------------------

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

async fn sqlite_specifics(store: &Store, db: &Path) {
    let wal = db.with_file_name("t.db-wal");

    // journal_mode=WAL: the header's read/write format versions are 2, and a
    // write lands in the -wal file.
    let mut tx = write(store).await;
    tx.put_meta("sq-wal", b"x").await.unwrap();
    commit(tx).await;
    let header = file_bytes(db);
    assert!(header.len() >= 100, "database file has a header");
    assert_eq!(&header[..16], b"SQLite format 3\0");
    assert_eq!((header[18], header[19]), (2, 2), "journal_mode is WAL");
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0,
        "the write went to the WAL"
    );

    // checkpoint(): the WAL is flushed and truncated.
    store.checkpoint().await.unwrap();
    assert_eq!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0),
        0,
        "checkpoint truncates the WAL"
    );

    // secure_delete: bytes overwritten in place do not linger in the file.
    let marker: Vec<u8> = b"VOW-SECRET-KEK-MARKER-7f3a9c1e-0123456789abcdef".to_vec();
    seed(store, &["sd-t"], &[]).await;
    let mut tx = write(store).await;
    tx.insert_kek(&KekRow {
        tenant_id: "sd-t".to_string(),
        version: 1,
        wrapped: marker.clone(),
        created_at: 0,
        retired_at: None,
    })
    .await
    .unwrap();
    // A later row, so the marker's cell is not at the edge of the page's content
    // area (where a smaller replacement cell would overwrite part of it anyway).
    tx.insert_kek(&KekRow {
        tenant_id: "sd-t".to_string(),
        version: 2,
        wrapped: vec![0x33; 48],
        created_at: 0,
        retired_at: None,
    })
    .await
    .unwrap();
    commit(tx).await;
    store.checkpoint().await.unwrap();
    let probe = &marker[..24];
    assert!(
        contains(&file_bytes(db), probe),
        "the key reached the main file"
    );

    let mut tx = write(store).await;
    tx.retire_kek("sd-t", 1, 1).await.unwrap();
    commit(tx).await;
    store.checkpoint().await.unwrap();
    assert!(
        !contains(&file_bytes(db), probe),
        "retired key bytes remain in the database file (secure_delete off?)"
    );
    assert!(!contains(&file_bytes(&wal), probe));
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.db");
    let url = format!("sqlite://{}", path.display());

    let store = Store::open(&url).await.expect("open SQLite");
    suite(&store, Backend::Sqlite).await;
    sqlite_specifics(&store, &path).await;
    store.close().await;

    let store = Store::open(&url).await.expect("reopen SQLite");
    check_reopened(&store).await;
    store.checkpoint().await.expect("checkpoint after reopen");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_postgres() {
    if pg_skipped() {
        eprintln!("conformance_postgres: skipped (VOW_SKIP_PG=1)");
        return;
    }
    let db = PgTestDb::create().await.expect(
        "cannot create a PostgreSQL test database (is the server up? set VOW_SKIP_PG=1 to skip)",
    );
    let url = db.url.clone();
    // Run in a task so that a failed assertion still drops the database.
    let outcome = tokio::spawn(async move {
        let store = Store::open(&url).await.expect("open PostgreSQL");
        suite(&store, Backend::Postgres).await;
        store.close().await;
        let store = Store::open(&url).await.expect("reopen PostgreSQL");
        check_reopened(&store).await;
        store.close().await;
    })
    .await;
    let dropped = db.drop_db().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    dropped.expect("drop the PostgreSQL test database");
}
