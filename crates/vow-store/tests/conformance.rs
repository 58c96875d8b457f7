//! Store conformance: one suite, run unchanged against SQLite and PostgreSQL.
//!
//! Every public method of `Store` and `Tx` is exercised with real assertions, so
//! the two backends are held to the same observable behaviour. Each check works on
//! its own tenants and ids (except the audit chain, which is global and checked
//! first, from the genesis head).
//!
//! PostgreSQL runs by default against `VOW_TEST_PG_URL` (default: the local server)
//! and fails when the server is unreachable; set `VOW_SKIP_PG=1` to skip it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::path::Path;

use vow_store::testing::{PgTestDb, pg_skipped};
use vow_store::{
    ApiKeyRow, AuditCheckpointRow, AuditHead, AuditRow, Backend, ConsentRow, DisclosureRow,
    FieldRow, HoldRow, IdentifierRow, KekRow, NewAudit, NoticeRow, PolicyRow, RequestEventRow,
    RequestRow, SecurityEventRow, Store, StoreError, SubjectKeyRow, SubjectRow, TenantRow, Tx,
};
use vow_store::{ConnectionRow, JobRow, LockedHead, NewPerson, STORE_CHAIN};

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

/// A minimal open request: every optional column NULL.
fn request_row(tenant_id: &str, id: &str) -> RequestRow {
    RequestRow {
        id: id.to_string(),
        tenant_id: tenant_id.to_string(),
        kind: "access".to_string(),
        channel: "web".to_string(),
        state: "received".to_string(),
        subject_id: None,
        requester: "self".to_string(),
        residence: None,
        rules: r#"["gdpr"]"#.to_string(),
        binding: "gdpr".to_string(),
        received_at: 1_700_000_000_000,
        ack_due: None,
        response_due: 1_702_592_000_000,
        extended_max: None,
        extended_due: None,
        paused_at: None,
        verification: r#"{"points":2}"#.to_string(),
        matched_points: 0,
        kek_version: 1,
        key_wrapped: format!("wrapped:{id}\u{0}").into_bytes(),
        details: format!("sealed:{id}\u{0}\u{ff}").into_bytes(),
        outcome: None,
        closed_at: None,
        updated_at: 1_700_000_000_000,
    }
}

/// Commit requests in one transaction.
async fn seed_requests(store: &Store, requests: &[&RequestRow]) {
    let mut tx = write(store).await;
    for r in requests {
        tx.insert_request(r).await.expect("seed request");
    }
    commit(tx).await;
}

fn ids(rows: &[RequestRow]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
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
        assert_eq!(row.chain, head.chain, "audit row of another chain");
        assert_eq!(row.pos, head.pos + 1, "audit position gap");
        let expected = test_chain(&head.hash, row.pos, &row.entry);
        assert_eq!(row.hash, expected.to_vec(), "audit hash at pos {}", row.pos);
        head = AuditHead {
            chain: head.chain.clone(),
            pos: row.pos,
            hash: expected,
            at: row.entry.at,
            sig: None,
        };
    }
    if !rows.is_empty() {
        head.sig = Some(test_sign(&head));
    }
    head
}

/// A stand-in for the engine's signature: the store only keeps the bytes.
fn test_sign(head: &AuditHead) -> Vec<u8> {
    let mut sig = head.hash.to_vec();
    sig.extend_from_slice(head.chain.as_bytes());
    sig.extend_from_slice(&head.pos.to_be_bytes());
    sig.extend_from_slice(&head.at.to_be_bytes());
    sig
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
    check_security_events(store).await;
    check_policies(store).await;
    check_subjects(store).await;
    check_identifiers(store).await;
    check_fields(store).await;
    check_consents(store).await;
    check_bundle(store).await;
    check_rollback(store).await;
    check_sequential_writers(store).await;
    check_read_isolation(store).await;
    check_concurrent_audit(store).await;
    if backend == Backend::Postgres {
        check_chains_do_not_wait(store).await;
    }
    check_concurrent_ledgers(store).await;
    check_blobs_and_integers(store).await;
    check_foreign_keys(store).await;
    check_requests(store).await;
    check_request_order(store).await;
    check_update_request(store).await;
    check_request_keys(store).await;
    check_request_events(store).await;
    check_notices(store).await;
    check_exports(store).await;
    check_suppressions(store).await;
    check_insert_people(store).await;
    check_erase_subject(store).await;
    check_holds(store).await;
    check_codes(store).await;
    check_disclosures(store).await;
    check_purge_expired(store).await;
    check_http_connector(store).await;
    store.checkpoint().await.expect("checkpoint");
    store.ping().await.expect("the store answers");
}

/// `ping` answers while the store is open and fails once it is closed.
async fn check_ping_and_close(store: &Store) {
    store.ping().await.expect("the store answers");
    store.close().await;
    assert!(
        store.ping().await.is_err(),
        "a closed store does not answer"
    );
    assert!(
        store.subject_bundle("t", "s", true).await.is_err(),
        "nor do its one-trip reads"
    );
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

/// A chain's head before its first entry.
fn genesis_of(chain: &str) -> AuditHead {
    AuditHead {
        chain: chain.to_string(),
        pos: 0,
        hash: [0u8; 32],
        at: 0,
        sig: None,
    }
}

/// Every entry of `chain`, in order.
async fn chain_rows(tx: &mut vow_store::Tx, chain: &str) -> Vec<AuditRow> {
    tx.audit_chain_page(chain, 0, 100_000).await.unwrap()
}

async fn check_audit(store: &Store) {
    let genesis = genesis_of(STORE_CHAIN);
    let mut tx = read(store).await;
    assert_eq!(
        tx.audit_head(STORE_CHAIN).await.unwrap(),
        Some(genesis.clone()),
        "the store's chain starts at its genesis head"
    );
    assert_eq!(tx.audit_head("au-a").await.unwrap(), None, "no chain yet");
    assert_eq!(
        tx.audit_heads().await.unwrap(),
        std::slice::from_ref(&genesis)
    );
    assert_eq!(tx.audit_chains().await.unwrap(), [STORE_CHAIN]);
    assert!(tx.audit_page(0, 100).await.unwrap().is_empty());
    drop(tx);

    let first_a = vec![
        audit_entry(1_000, Some("au-a"), "subject.create", Some("au-s1"), None),
        audit_entry(
            1_002,
            Some("au-a"),
            "field.read",
            Some("au-s1"),
            Some("billing"),
        ),
    ];
    let first_store = vec![NewAudit {
        at: 1_001,
        tenant_id: None,
        actor: "system".to_string(),
        action: "server.start".to_string(),
        subject_id: None,
        purpose: None,
        detail: "{}".to_string(),
    }];
    let second_b = vec![audit_entry(
        FAR_FUTURE_MS,
        Some("au-b"),
        "subject.create",
        Some("au-s1"),
        None,
    )];
    let second_a = vec![NewAudit {
        at: i64::MAX,
        tenant_id: Some("au-a".to_string()),
        actor: "app:crm «ünïcode» 名前".to_string(),
        action: "consent.grant".to_string(),
        subject_id: Some("au-s1".to_string()),
        purpose: Some("marketing".to_string()),
        detail: r#"{"note":"quote \" backslash \\ newline \n"}"#.to_string(),
    }];

    let mut tx = write(store).await;
    // A new chain's head is made, and the store's chain (which records the start) is
    // locked with it; both come back in one order.
    let locked = tx.lock_audit_heads(&["au-a"]).await.unwrap();
    assert_eq!(
        locked,
        [
            LockedHead {
                head: genesis.clone(),
                created: false
            },
            LockedHead {
                head: genesis_of("au-a"),
                created: true
            }
        ]
    );
    // Locking again in the same transaction gives the same heads, created no more.
    let again = tx.lock_audit_heads(&["au-a", "au-a"]).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(!again[0].created);
    // Appending nothing returns the head unchanged and writes nothing.
    let head = tx
        .append_audit("au-a", &[], test_chain, test_sign)
        .await
        .unwrap();
    assert_eq!(head, genesis_of("au-a"));
    // An entry is appended to its own tenant's chain only.
    let err = tx
        .append_audit("au-b", &first_a, test_chain, test_sign)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store_corrupt", "{err:?}");
    let head_a = tx
        .append_audit("au-a", &first_a, test_chain, test_sign)
        .await
        .unwrap();
    assert_eq!(head_a.pos, 2);
    let mut expected = genesis_of("au-a");
    for (i, e) in first_a.iter().enumerate() {
        let pos = i as i64 + 1;
        expected = AuditHead {
            chain: "au-a".into(),
            pos,
            hash: test_chain(&expected.hash, pos, e),
            at: e.at,
            sig: None,
        };
    }
    expected.sig = Some(test_sign(&expected));
    assert_eq!(head_a, expected, "append_audit returns the new head");
    let head_store = tx
        .append_audit(STORE_CHAIN, &first_store, test_chain, test_sign)
        .await
        .unwrap();
    assert_eq!(head_store.pos, 1, "each chain counts its own entries");
    // The heads are visible inside the transaction that moved them.
    assert_eq!(tx.audit_head("au-a").await.unwrap(), Some(head_a.clone()));
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.audit_head("au-a").await.unwrap(), Some(head_a.clone()));
    assert_eq!(
        tx.audit_heads().await.unwrap(),
        [head_store.clone(), head_a.clone()]
    );
    drop(tx);

    // A chain begun in a transaction that rolls back leaves no head.
    let mut tx = write(store).await;
    tx.append_audit(
        "au-z",
        &[audit_entry(5, Some("au-z"), "gone", None, None)],
        test_chain,
        test_sign,
    )
    .await
    .unwrap();
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(tx.audit_head("au-z").await.unwrap(), None);
    drop(tx);

    let mut tx = write(store).await;
    let locked = tx.lock_audit_heads(&["au-b", "au-a"]).await.unwrap();
    let names: Vec<(&str, bool)> = locked
        .iter()
        .map(|l| (l.head.chain.as_str(), l.created))
        .collect();
    assert_eq!(names, [("", false), ("au-a", false), ("au-b", true)]);
    let head_b = tx
        .append_audit("au-b", &second_b, test_chain, test_sign)
        .await
        .unwrap();
    let head_a = tx
        .append_audit("au-a", &second_a, test_chain, test_sign)
        .await
        .unwrap();
    assert_eq!((head_a.pos, head_b.pos), (3, 1));
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.audit_head("au-a").await.unwrap(), Some(head_a.clone()));
    assert_eq!(head_a.at, i64::MAX, "the head keeps the last entry's time");
    assert_eq!(
        tx.audit_chains().await.unwrap(),
        [STORE_CHAIN, "au-a", "au-b"]
    );
    assert_eq!(tx.audit_entry_at("au-a", 2).await.unwrap(), Some(1_002));
    assert_eq!(
        tx.audit_entry_at("au-b", 1).await.unwrap(),
        Some(FAR_FUTURE_MS)
    );
    assert_eq!(tx.audit_entry_at("au-b", 2).await.unwrap(), None);
    assert_eq!(tx.latest_audit_checkpoint().await.unwrap(), None);
    drop(tx);

    // Checkpoints: the newest by seq; a second one of the same seq replaces the first.
    let checkpoint = |seq: i64, at: i64| AuditCheckpointRow {
        seq,
        hash: vec![seq as u8; 32],
        at,
        sig: vec![7; 64],
        entries: seq * 10,
    };
    let mut tx = write(store).await;
    tx.put_audit_checkpoint(&checkpoint(3, 10)).await.unwrap();
    tx.put_audit_checkpoint(&checkpoint(5, 20)).await.unwrap();
    tx.put_audit_checkpoint(&checkpoint(5, 30)).await.unwrap();
    tx.put_audit_checkpoint(&checkpoint(4, 40)).await.unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.latest_audit_checkpoint().await.unwrap(),
        Some(checkpoint(5, 30))
    );
    drop(tx);

    // A head can be rewritten whole (the engine's first signature of a store).
    let mut tx = write(store).await;
    let unsigned = AuditHead {
        sig: None,
        ..head_a.clone()
    };
    tx.put_audit_head(&unsigned).await.unwrap();
    assert_eq!(tx.audit_head("au-a").await.unwrap(), Some(unsigned));
    tx.put_audit_head(&head_a).await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.audit_head("au-a").await.unwrap(), Some(head_a.clone()));

    // All chains in the order written: seq > after, at most limit.
    let seqs = |rows: &[AuditRow]| rows.iter().map(|r| r.seq).collect::<Vec<_>>();
    let all = tx.audit_page(0, 100).await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    let (s1, s3) = (all[0].seq, all[2].seq);
    assert_eq!(seqs(&tx.audit_page(s1, 2).await.unwrap()), seqs(&all[1..3]));
    assert_eq!(seqs(&tx.audit_page(s3, 10).await.unwrap()), seqs(&all[3..]));
    assert!(tx.audit_page(all[4].seq, 2).await.unwrap().is_empty());
    assert!(tx.audit_page(0, 0).await.unwrap().is_empty());
    let mut entries: Vec<NewAudit> = all.iter().map(|r| r.entry.clone()).collect();
    let mut written: Vec<NewAudit> = first_a
        .iter()
        .chain(&first_store)
        .chain(&second_b)
        .chain(&second_a)
        .cloned()
        .collect();
    entries.sort_by_key(|e| e.at);
    written.sort_by_key(|e| e.at);
    assert_eq!(entries, written, "audit entries round-trip exactly");

    // Each chain alone, by position.
    let a = chain_rows(&mut tx, "au-a").await;
    assert_eq!(a.len(), 3);
    assert_eq!(verify_chain(&genesis_of("au-a"), &a), head_a);
    assert_eq!(
        verify_chain(&genesis_of("au-b"), &chain_rows(&mut tx, "au-b").await),
        head_b
    );
    assert_eq!(
        verify_chain(&genesis, &chain_rows(&mut tx, STORE_CHAIN).await),
        head_store
    );
    let page: Vec<i64> = tx
        .audit_chain_page("au-a", 1, 1)
        .await
        .unwrap()
        .iter()
        .map(|r| r.pos)
        .collect();
    assert_eq!(page, [2]);
    // The store chain's marks: only the actions asked for.
    let marks = tx.audit_store_marks(&["server.start"]).await.unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].entry, first_store[0]);
    assert!(
        tx.audit_store_marks(&["subject.create"])
            .await
            .unwrap()
            .is_empty()
    );

    // One subject of one tenant, newest first.
    let by_subject = tx.audit_for_subject("au-a", "au-s1", 10).await.unwrap();
    let positions: Vec<i64> = by_subject.iter().map(|r| r.pos).collect();
    assert_eq!(positions, [3, 2, 1]);
    assert_eq!(by_subject[0], a[2]);
    let limited = tx.audit_for_subject("au-a", "au-s1", 2).await.unwrap();
    assert_eq!(limited.len(), 2);
    // Same subject id under another tenant is another person.
    let other = tx.audit_for_subject("au-b", "au-s1", 10).await.unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].chain, "au-b");
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
        expires_at: Some(FAR_FUTURE_MS),
        created_by: Some("local:test".to_string()),
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
        expires_at: None,
        created_by: None,
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
        expires_at: Some(1),
        created_by: Some("ak-2".to_string()),
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
    assert_eq!(tx.api_keys().await.unwrap(), [k3.clone(), k1.clone(), k2]);
    drop(tx);

    // The per-request read outside a transaction sees the same row.
    assert_eq!(store.api_key("ak-3").await.unwrap(), Some(k3));
    assert_eq!(store.api_key("ak-missing").await.unwrap(), None);

    let mut tx = write(store).await;
    let err = tx.insert_api_key(&k1).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
}

async fn check_security_events(store: &Store) {
    let event = |at: i64, tenant: Option<&str>, key_tenant: Option<&str>| SecurityEventRow {
        seq: 0,
        at,
        kind: "forbidden".to_string(),
        reason: "forbidden".to_string(),
        key_id: Some("abcdefghjkmn".to_string()),
        key_tenant: key_tenant.map(str::to_string),
        tenant_id: tenant.map(str::to_string),
        method: "GET".to_string(),
        route: "/v1/tenants/{t}/subjects/{s}/history".to_string(),
    };
    let mut tx = write(store).await;
    for (at, t, k) in [
        (10, Some("se-a"), Some("se-a")),
        (20, Some("se-b"), Some("se-a")),
        (30, None, None),
        (FAR_FUTURE_MS, Some("se-b"), Some("se-b")),
    ] {
        tx.insert_security_event(&event(at, t, k)).await.unwrap();
    }
    commit(tx).await;
    let mut tx = read(store).await;
    let all = tx.security_events(None, 0, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.at).collect::<Vec<_>>(),
        [FAR_FUTURE_MS, 30, 20, 10],
        "newest first"
    );
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq));
    assert_eq!(
        all[3],
        SecurityEventRow {
            seq: all[3].seq,
            ..event(10, Some("se-a"), Some("se-a"))
        }
    );
    // A tenant sees what named it and what its keys did.
    let a = tx.security_events(Some("se-a"), 0, 100).await.unwrap();
    assert_eq!(a.iter().map(|e| e.at).collect::<Vec<_>>(), [20, 10]);
    let b = tx.security_events(Some("se-b"), 15, 1).await.unwrap();
    assert_eq!(b.iter().map(|e| e.at).collect::<Vec<_>>(), [FAR_FUTURE_MS]);
    drop(tx);
    // Retention, then the row cap.
    let mut tx = write(store).await;
    assert_eq!(tx.trim_security_events(15, 100).await.unwrap(), 1);
    assert_eq!(tx.trim_security_events(0, 2).await.unwrap(), 1);
    commit(tx).await;
    let mut tx = read(store).await;
    let left = tx.security_events(None, 0, 100).await.unwrap();
    assert_eq!(
        left.iter().map(|e| e.at).collect::<Vec<_>>(),
        [FAR_FUTURE_MS, 30]
    );
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

/// `subject_bundle` and `lookup_subject` (one trip each, outside any transaction)
/// agree with the transaction's own methods, keep tenants apart, skip people still
/// importing, and see a commit made just before them.
async fn check_bundle(store: &Store) {
    seed(
        store,
        &["bu-a", "bu-b"],
        &[
            ("bu-a", "bu-s1", "active"),
            ("bu-a", "bu-s2", "importing"),
            ("bu-a", "bu-s3", "erased"),
            ("bu-a", "bu-s4", "active"),
        ],
    )
    .await;
    let field = |id: &str, category: &str, at: i64| FieldRow {
        id: id.to_string(),
        tenant_id: "bu-a".to_string(),
        subject_id: "bu-s1".to_string(),
        category: category.to_string(),
        purposes: r#"["research"]"#.to_string(),
        source: "import".to_string(),
        store: "primary".to_string(),
        collected_at: at,
        value: all_bytes(),
        version: 1,
        supersedes: None,
        superseded_at: None,
    };
    let consent = |id: &str, purpose: &str, evidence: Option<Vec<u8>>| ConsentRow {
        id: id.to_string(),
        tenant_id: "bu-a".to_string(),
        subject_id: "bu-s1".to_string(),
        seq: 0,
        purpose: purpose.to_string(),
        action: "grant".to_string(),
        kind: "explicit".to_string(),
        at: 1_000,
        expires_at: Some(FAR_FUTURE_MS),
        policy_version: 1,
        parent_subject_id: None,
        evidence,
        recorded_at: 1_001,
        recorded_by: "app:crm".to_string(),
    };
    let bidx: Vec<u8> = (0..16u8).map(|i| 0xF0 ^ i).collect();
    let mut tx = write(store).await;
    tx.insert_kek(&KekRow {
        tenant_id: "bu-a".to_string(),
        version: 1,
        wrapped: vec![7; 57],
        created_at: 0,
        retired_at: None,
    })
    .await
    .unwrap();
    tx.insert_subject_key(&SubjectKeyRow {
        subject_id: "bu-s1".to_string(),
        tenant_id: "bu-a".to_string(),
        kek_version: 1,
        wrapped: all_bytes(),
    })
    .await
    .unwrap();
    for f in [
        field("bu-f1", "user.contact.email", 3_000),
        field("bu-f2", "user.name", 1_000),
        field("bu-f3", "user.contact.email", 2_000),
    ] {
        tx.insert_field(&f).await.unwrap();
    }
    tx.supersede_field("bu-a", "bu-f3", 3_000).await.unwrap();
    tx.append_consent(&consent("bu-c2", "research", Some(all_bytes())))
        .await
        .unwrap();
    tx.append_consent(&consent("bu-c1", "marketing", None))
        .await
        .unwrap();
    for (subject, kind) in [("bu-s1", "email"), ("bu-s3", "phone")] {
        tx.insert_identifier(&IdentifierRow {
            tenant_id: "bu-a".to_string(),
            kind: kind.to_string(),
            bidx: bidx.clone(),
            subject_id: subject.to_string(),
            value: vec![1, 0, 2],
        })
        .await
        .unwrap();
    }
    commit(tx).await;

    let mut tx = read(store).await;
    let subject = tx.subject("bu-a", "bu-s1").await.unwrap().unwrap();
    let key = tx.subject_key("bu-a", "bu-s1").await.unwrap();
    let consents = tx.consents("bu-a", "bu-s1").await.unwrap();
    let fields = tx.current_fields("bu-a", "bu-s1").await.unwrap();
    drop(tx);
    assert!(key.is_some());
    assert_eq!(consents.len(), 2);
    assert_eq!(fields.len(), 2, "the superseded version is not current");

    let bundle = store
        .subject_bundle("bu-a", "bu-s1", true)
        .await
        .unwrap()
        .expect("the person is found");
    assert_eq!(bundle.subject, subject);
    assert_eq!(bundle.key, key);
    assert_eq!(bundle.consents, consents, "the ledger, in order");
    assert_eq!(bundle.fields, fields, "current fields, in order");
    let lean = store
        .subject_bundle("bu-a", "bu-s1", false)
        .await
        .unwrap()
        .unwrap();
    assert!(lean.fields.is_empty(), "fields only when asked");
    assert_eq!(lean.consents, consents);

    // Another tenant's, an importing one's and an unknown id: not found. An erased
    // person's row is there (the caller checks the status) but has no key.
    for (t, s) in [("bu-b", "bu-s1"), ("bu-a", "bu-s2"), ("bu-a", "bu-nobody")] {
        assert_eq!(
            store.subject_bundle(t, s, true).await.unwrap(),
            None,
            "{t}/{s}"
        );
    }
    let erased = store
        .subject_bundle("bu-a", "bu-s3", true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(erased.subject.status, "erased");
    assert_eq!(erased.key, None);
    assert!(erased.consents.is_empty() && erased.fields.is_empty());

    // Lookups: active only, per tenant and kind, whole index only.
    assert_eq!(
        store
            .lookup_subject("bu-a", "email", &bidx)
            .await
            .unwrap()
            .as_deref(),
        Some("bu-s1")
    );
    for (t, kind, b) in [
        ("bu-a", "phone", &bidx[..]),
        ("bu-b", "email", &bidx[..]),
        ("bu-a", "email", &bidx[..15]),
    ] {
        assert_eq!(
            store.lookup_subject(t, kind, b).await.unwrap(),
            None,
            "{t}/{kind}/{}",
            b.len()
        );
    }

    // A commit is visible to the next one-trip read at once.
    let mut tx = write(store).await;
    tx.append_consent(&ConsentRow {
        action: "withdraw".to_string(),
        ..consent("bu-c3", "research", None)
    })
    .await
    .unwrap();
    tx.supersede_field("bu-a", "bu-f1", 4_000).await.unwrap();
    commit(tx).await;
    let after = store
        .subject_bundle("bu-a", "bu-s1", true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.consents.len(), 3);
    assert_eq!(after.consents[2].action, "withdraw");
    assert_eq!(after.consents[2].seq, 3);
    assert_eq!(after.fields.len(), 1);
    assert_eq!(after.fields[0].id, "bu-f2");

    // Many at once (more than the SQLite store's reader threads): each gets its own.
    let mut tasks = Vec::new();
    for n in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let s = if n % 2 == 0 { "bu-s1" } else { "bu-s4" };
            (s, store.subject_bundle("bu-a", s, true).await.unwrap())
        }));
    }
    for t in tasks {
        let (s, b) = t.await.unwrap();
        let b = b.unwrap();
        assert_eq!(b.subject.id, s);
        assert_eq!(b.fields.len(), usize::from(s == "bu-s1"));
    }
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
    let heads = tx.audit_heads().await.unwrap();
    let last = tx
        .audit_page(0, 100_000)
        .await
        .unwrap()
        .last()
        .map_or(0, |r| r.seq);
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
            "rb-t",
            &[audit_entry(
                9,
                Some("rb-t"),
                "rollback.me",
                Some("rb-s"),
                None,
            )],
            test_chain,
            test_sign,
        )
        .await
        .unwrap();
    assert_eq!(moved.pos, 1);
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
    assert_eq!(tx.audit_heads().await.unwrap(), heads);
    assert!(tx.audit_page(last, 10).await.unwrap().is_empty());
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

/// Writers of several tenants append at once: each tenant's chain stays whole, with
/// each writer's entries once and in order.
async fn check_concurrent_audit(store: &Store) {
    const TASKS: usize = 4;
    const ROUNDS: usize = 5;
    const TENANTS: [&str; 2] = ["ca-t", "ca-u"];

    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let tenant = TENANTS[(task + round) % TENANTS.len()];
                let mut tx = store.write().await.expect("write");
                let entry = NewAudit {
                    at: 10_000 + round as i64,
                    tenant_id: Some(tenant.to_string()),
                    actor: format!("task-{task}"),
                    action: "concurrent.append".to_string(),
                    subject_id: Some(format!("ca-s{task}")),
                    purpose: None,
                    detail: format!(r#"{{"round":{round}}}"#),
                };
                tx.append_audit(tenant, std::slice::from_ref(&entry), test_chain, test_sign)
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
    let mut rows = Vec::new();
    for tenant in TENANTS {
        let head = tx.audit_head(tenant).await.unwrap().unwrap();
        let chain = chain_rows(&mut tx, tenant).await;
        assert_eq!(
            verify_chain(&genesis_of(tenant), &chain),
            head,
            "one unbroken chain per tenant"
        );
        rows.extend(chain);
    }
    assert_eq!(rows.len(), TASKS * ROUNDS);
    rows.sort_by_key(|r| r.seq);
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

/// On PostgreSQL one tenant's open transaction does not hold up another tenant's
/// audit entries: there is no global head to wait on. (SQLite has one writer.)
async fn check_chains_do_not_wait(store: &Store) {
    let entry = |tenant: &str| audit_entry(20_000, Some(tenant), "parallel", None, None);
    // Both chains exist first: only a chain's start touches the store's chain.
    let mut tx = write(store).await;
    for t in ["cw-a", "cw-b"] {
        tx.append_audit(t, &[entry(t)], test_chain, test_sign)
            .await
            .unwrap();
    }
    commit(tx).await;

    let mut holder = write(store).await;
    holder
        .append_audit("cw-a", &[entry("cw-a")], test_chain, test_sign)
        .await
        .unwrap();
    let other = store.clone();
    let b = tokio::spawn(async move {
        let mut tx = other.write().await.unwrap();
        tx.append_audit("cw-b", &[entry("cw-b")], test_chain, test_sign)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    });
    // A generous bound that only a wait on cw-a's transaction could reach.
    tokio::time::timeout(std::time::Duration::from_secs(60), b)
        .await
        .expect("tenant cw-b's append waited for tenant cw-a's transaction")
        .unwrap();
    commit(holder).await;
    let mut tx = read(store).await;
    assert_eq!(tx.audit_head("cw-a").await.unwrap().unwrap().pos, 2);
    assert_eq!(tx.audit_head("cw-b").await.unwrap().unwrap().pos, 2);
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
                tx.append_audit("cl-t", &[entry], test_chain, test_sign)
                    .await
                    .expect("append");
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
                tx.append_audit("cl-t", &[entry], test_chain, test_sign)
                    .await
                    .expect("append");
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

// ---------------------------------------------------------------------------
// Data-subject requests
// ---------------------------------------------------------------------------

async fn check_requests(store: &Store) {
    seed(store, &["rq-a", "rq-b"], &[("rq-a", "rq-s", "active")]).await;
    // Every optional column set, blobs with every byte value, integers beyond 32 bits.
    let full = RequestRow {
        kind: "delete".to_string(),
        channel: "phone".to_string(),
        state: "verifying".to_string(),
        subject_id: Some("rq-s".to_string()),
        requester: "agent".to_string(),
        residence: Some("US-CA".to_string()),
        rules: r#"["ccpa","gdpr"]"#.to_string(),
        binding: "ccpa".to_string(),
        received_at: FAR_FUTURE_MS,
        ack_due: Some(FAR_FUTURE_MS + 1),
        response_due: FAR_FUTURE_MS + 2,
        extended_max: Some(FAR_FUTURE_MS + 3),
        extended_due: Some(FAR_FUTURE_MS + 4),
        paused_at: Some(FAR_FUTURE_MS + 5),
        matched_points: 1 << 40,
        kek_version: 1 << 33,
        key_wrapped: all_bytes(),
        details: all_bytes().into_iter().rev().collect(),
        outcome: Some(r#"{"done":"deleted"}"#.to_string()),
        closed_at: Some(i64::MAX),
        updated_at: FAR_FUTURE_MS + 6,
        ..request_row("rq-a", "rq-full")
    };
    // Every optional column NULL; an empty blob is a value.
    let minimal = RequestRow {
        details: Vec::new(),
        ..request_row("rq-a", "rq-min")
    };
    let other = request_row("rq-b", "rq-other");
    seed_requests(store, &[&full, &minimal, &other]).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.request("rq-a", "rq-full").await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        tx.request("rq-a", "rq-min").await.unwrap(),
        Some(minimal.clone())
    );
    assert_eq!(
        tx.request("rq-b", "rq-other").await.unwrap(),
        Some(other.clone())
    );
    // Another tenant's request is simply not found.
    assert_eq!(tx.request("rq-b", "rq-full").await.unwrap(), None);
    assert_eq!(tx.request("rq-a", "rq-other").await.unwrap(), None);
    assert_eq!(tx.request("rq-a", "rq-missing").await.unwrap(), None);
    assert_eq!(
        tx.requests("rq-a", true, 100).await.unwrap(),
        [minimal.clone(), full.clone()],
        "open before closed, only this tenant's"
    );
    assert_eq!(tx.requests("rq-b", true, 100).await.unwrap(), [other]);
    assert!(tx.requests("rq-c", true, 100).await.unwrap().is_empty());
    drop(tx);

    // Ids are unique across tenants.
    let mut tx = write(store).await;
    let err = tx
        .insert_request(&request_row("rq-b", "rq-full"))
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    drop(tx);
    // A request belongs to an existing tenant.
    let mut tx = write(store).await;
    let err = tx
        .insert_request(&request_row("rq-no-such-tenant", "rq-x"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(tx.request("rq-a", "rq-full").await.unwrap(), Some(full));
    assert_eq!(tx.request("rq-no-such-tenant", "rq-x").await.unwrap(), None);
}

/// `requests`: open ones first, then closed; each group by the effective due date
/// (an extension replaces the original deadline), then by receipt. `requests_received`
/// takes a half-open interval of receipt times.
async fn check_request_order(store: &Store) {
    seed(store, &["ro-a", "ro-b"], &[]).await;
    let req = |id: &str, received: i64, due: i64, extended: Option<i64>, closed: Option<i64>| {
        RequestRow {
            received_at: received,
            response_due: due,
            extended_due: extended,
            closed_at: closed,
            ..request_row("ro-a", id)
        }
    };
    // Ids deliberately out of the expected order.
    let rows = [
        // Earliest original deadline, but extended past every other open one.
        req("ro-1", 50, 1_000, Some(9_000), None),
        req("ro-2", 100, 5_000, None, None),
        // Same effective deadline: the earlier receipt first.
        req("ro-3", 300, 3_000, None, None),
        req("ro-4", 200, 3_000, None, None),
        // Same deadline and receipt: by id, on both backends.
        req("ro-6", 400, 6_000, None, None),
        req("ro-5", 400, 6_000, None, None),
        // Closed ones come last whatever their deadlines.
        req("ro-7", 10, 500, None, Some(600)),
        req("ro-8", 20, 100, Some(7_000), Some(700)),
        req("ro-9", 400, 2_000, None, Some(800)),
    ];
    let others = RequestRow {
        received_at: 100,
        response_due: 1,
        ..request_row("ro-b", "ro-other")
    };
    let mut all: Vec<&RequestRow> = rows.iter().collect();
    all.push(&others);
    seed_requests(store, &all).await;

    let mut tx = read(store).await;
    let open = tx.requests("ro-a", false, 100).await.unwrap();
    assert_eq!(ids(&open), ["ro-4", "ro-3", "ro-2", "ro-5", "ro-6", "ro-1"]);
    assert_eq!(open[0], rows[3], "listed rows are complete");
    let every = tx.requests("ro-a", true, 100).await.unwrap();
    assert_eq!(
        ids(&every),
        [
            "ro-4", "ro-3", "ro-2", "ro-5", "ro-6", "ro-1", "ro-7", "ro-9", "ro-8"
        ]
    );
    assert_eq!(
        ids(&tx.requests("ro-a", true, 2).await.unwrap()),
        ["ro-4", "ro-3"]
    );
    assert_eq!(
        ids(&tx.requests("ro-a", true, 7).await.unwrap()),
        ["ro-4", "ro-3", "ro-2", "ro-5", "ro-6", "ro-1", "ro-7"]
    );
    assert!(tx.requests("ro-a", true, 0).await.unwrap().is_empty());
    assert_eq!(
        ids(&tx.requests("ro-b", true, 100).await.unwrap()),
        ["ro-other"]
    );

    // [from, to): the lower bound is in, the upper bound is out; by receipt, then id.
    assert_eq!(
        ids(&tx.requests_received("ro-a", 100, 400).await.unwrap()),
        ["ro-2", "ro-4", "ro-3"]
    );
    assert_eq!(
        ids(&tx.requests_received("ro-a", 101, 401).await.unwrap()),
        ["ro-4", "ro-3", "ro-5", "ro-6", "ro-9"]
    );
    assert!(
        tx.requests_received("ro-a", 300, 300)
            .await
            .unwrap()
            .is_empty()
    );
    let received = tx.requests_received("ro-a", 0, i64::MAX).await.unwrap();
    assert_eq!(
        ids(&received),
        [
            "ro-7", "ro-8", "ro-1", "ro-2", "ro-4", "ro-3", "ro-5", "ro-6", "ro-9"
        ],
        "closed ones too, only this tenant's"
    );
    assert_eq!(received[1], rows[7]);
    assert_eq!(
        ids(&tx.requests_received("ro-b", 0, i64::MAX).await.unwrap()),
        ["ro-other"]
    );
}

async fn check_update_request(store: &Store) {
    seed(store, &["ru-a", "ru-b"], &[("ru-a", "ru-s", "active")]).await;
    let original = request_row("ru-a", "ru-1");
    let bystander = request_row("ru-a", "ru-2");
    seed_requests(store, &[&original, &bystander]).await;

    // Every column the workflow changes, from NULL to a value.
    let changed = RequestRow {
        kind: "know".to_string(),
        state: "closed".to_string(),
        subject_id: Some("ru-s".to_string()),
        extended_due: Some(FAR_FUTURE_MS + 1),
        matched_points: 1 << 35,
        details: all_bytes(),
        outcome: Some(r#"{"done":"answered"}"#.to_string()),
        closed_at: Some(FAR_FUTURE_MS + 2),
        updated_at: FAR_FUTURE_MS + 3,
        response_due: FAR_FUTURE_MS + 4,
        extended_max: Some(FAR_FUTURE_MS + 5),
        paused_at: Some(FAR_FUTURE_MS + 6),
        ..original.clone()
    };
    // The columns fixed at intake are not rewritten, whatever the row says.
    let tampered = RequestRow {
        channel: "mail".to_string(),
        requester: "parent".to_string(),
        residence: Some("GB".to_string()),
        rules: "[]".to_string(),
        binding: "uk_gdpr".to_string(),
        received_at: 1,
        ack_due: Some(2),
        verification: "{}".to_string(),
        kek_version: 9,
        key_wrapped: b"other".to_vec(),
        ..changed.clone()
    };
    let mut tx = write(store).await;
    tx.update_request(&tampered).await.unwrap();
    assert_eq!(
        tx.request("ru-a", "ru-1").await.unwrap(),
        Some(changed.clone()),
        "read-your-writes inside the transaction"
    );
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.request("ru-a", "ru-1").await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        tx.request("ru-a", "ru-2").await.unwrap(),
        Some(bystander.clone()),
        "other requests untouched"
    );
    drop(tx);

    // And back from a value to NULL.
    let reopened = RequestRow {
        state: "in_progress".to_string(),
        subject_id: None,
        extended_due: None,
        outcome: None,
        closed_at: None,
        extended_max: None,
        paused_at: None,
        details: Vec::new(),
        ..changed.clone()
    };
    let mut tx = write(store).await;
    tx.update_request(&reopened).await.unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.request("ru-a", "ru-1").await.unwrap(),
        Some(reopened.clone())
    );
    drop(tx);

    // A request that is not there (or not this tenant's) cannot be updated.
    let mut tx = write(store).await;
    let err = tx
        .update_request(&request_row("ru-a", "ru-missing"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert_eq!(err.code(), "store_corrupt");
    let err = tx
        .update_request(&RequestRow {
            tenant_id: "ru-b".to_string(),
            state: "closed".to_string(),
            ..reopened.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.request("ru-a", "ru-1").await.unwrap(), Some(reopened));
    assert_eq!(tx.request("ru-b", "ru-1").await.unwrap(), None);
    assert_eq!(tx.request("ru-a", "ru-missing").await.unwrap(), None);
}

async fn check_request_keys(store: &Store) {
    seed(store, &["rk-a", "rk-b"], &[]).await;
    let req = |t: &str, id: &str, v: i64| RequestRow {
        kek_version: v,
        key_wrapped: format!("wrapped:{id}:v{v}\u{0}\u{ff}").into_bytes(),
        ..request_row(t, id)
    };
    // Inserted out of order; paged by id.
    let rows = [
        req("rk-a", "rk-3", 1),
        req("rk-a", "rk-1", 1),
        req("rk-a", "rk-5", 1),
        req("rk-a", "rk-2", 1),
        req("rk-a", "rk-4", 1),
        req("rk-a", "rk-6", 2),
        req("rk-b", "rk-7", 1),
    ];
    seed_requests(store, &rows.iter().collect::<Vec<_>>()).await;

    let mut tx = read(store).await;
    assert!(
        tx.request_keys_below("rk-a", 1, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let key = |id: &str, v: i64| {
        let r = req("rk-a", id, v);
        (r.id, r.kek_version, r.key_wrapped)
    };
    assert_eq!(
        tx.request_keys_below("rk-a", 2, 100).await.unwrap(),
        ["rk-1", "rk-2", "rk-3", "rk-4", "rk-5"].map(|id| key(id, 1)),
        "only this tenant, only older versions, by id"
    );
    assert_eq!(
        tx.request_keys_below("rk-a", 3, 100).await.unwrap().len(),
        6
    );
    drop(tx);

    // Rotation: page through the old keys, rewrapping each page.
    let mut pages = Vec::new();
    loop {
        let mut tx = write(store).await;
        let page = tx.request_keys_below("rk-a", 2, 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        for (id, v, _) in &page {
            tx.rewrap_request_key(id, *v, 2, &key(id, 2).2)
                .await
                .unwrap();
        }
        commit(tx).await;
        pages.push(page.into_iter().map(|k| k.0).collect::<Vec<_>>());
        assert!(pages.len() <= 3, "paging does not terminate");
    }
    assert_eq!(
        pages,
        [vec!["rk-1", "rk-2"], vec!["rk-3", "rk-4"], vec!["rk-5"]]
    );

    let mut tx = read(store).await;
    for id in ["rk-1", "rk-2", "rk-3", "rk-4", "rk-5", "rk-6"] {
        assert_eq!(
            tx.request("rk-a", id).await.unwrap(),
            Some(req("rk-a", id, 2)),
            "only the key changed"
        );
    }
    assert_eq!(
        tx.request("rk-b", "rk-7").await.unwrap(),
        Some(req("rk-b", "rk-7", 1)),
        "other tenant's keys are not rotated"
    );
    drop(tx);

    // A rewrap from a version the key is no longer at: the key changed underneath.
    let mut tx = write(store).await;
    let err = tx
        .rewrap_request_key("rk-1", 1, 3, b"stale")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert_eq!(err.code(), "store_corrupt");
    let err = tx
        .rewrap_request_key("rk-missing", 1, 2, b"x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.request("rk-a", "rk-1").await.unwrap(),
        Some(req("rk-a", "rk-1", 2))
    );
}

async fn check_request_events(store: &Store) {
    seed(store, &["ev-a"], &[]).await;
    seed_requests(
        store,
        &[&request_row("ev-a", "ev-1"), &request_row("ev-a", "ev-2")],
    )
    .await;
    let event = |r: &str, at: i64, event: &str, from: Option<&str>, to: Option<&str>| {
        RequestEventRow {
            request_id: r.to_string(),
            seq: 99, // assigned by append_request_event
            at,
            actor: "op:alice".to_string(),
            event: event.to_string(),
            from_state: from.map(str::to_string),
            to_state: to.map(str::to_string),
            note: format!(r#"{{"event":"{event}"}}"#),
        }
    };
    let e1 = event("ev-1", 1_000, "received", None, Some("received"));
    let f1 = event("ev-2", 1_500, "received", None, Some("received"));
    let e2 = event("ev-1", 2_000, "note", None, None);
    let e3 = event(
        "ev-1",
        FAR_FUTURE_MS,
        "closed",
        Some("received"),
        Some("closed"),
    );
    let f2 = event(
        "ev-2",
        3_000,
        "verified",
        Some("received"),
        Some("verifying"),
    );

    let mut tx = write(store).await;
    assert_eq!(tx.append_request_event(&e1).await.unwrap(), 1);
    assert_eq!(
        tx.append_request_event(&f1).await.unwrap(),
        1,
        "per-request sequence"
    );
    assert_eq!(tx.append_request_event(&e2).await.unwrap(), 2);
    commit(tx).await;
    let mut tx = write(store).await;
    assert_eq!(tx.append_request_event(&e3).await.unwrap(), 3);
    assert_eq!(tx.append_request_event(&f2).await.unwrap(), 2);
    commit(tx).await;

    let with_seq = |e: &RequestEventRow, seq: i64| RequestEventRow { seq, ..e.clone() };
    let mut tx = read(store).await;
    assert_eq!(
        tx.request_events("ev-1").await.unwrap(),
        [with_seq(&e1, 1), with_seq(&e2, 2), with_seq(&e3, 3)]
    );
    assert_eq!(
        tx.request_events("ev-2").await.unwrap(),
        [with_seq(&f1, 1), with_seq(&f2, 2)]
    );
    assert!(tx.request_events("ev-missing").await.unwrap().is_empty());
    drop(tx);

    // Events belong to an existing request.
    let mut tx = write(store).await;
    let err = tx
        .append_request_event(&event("ev-missing", 1, "x", None, None))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
    drop(tx);
    let mut tx = read(store).await;
    assert!(tx.request_events("ev-missing").await.unwrap().is_empty());
}

async fn check_notices(store: &Store) {
    seed(store, &["nt-a"], &[]).await;
    seed_requests(
        store,
        &[&request_row("nt-a", "nt-r1"), &request_row("nt-a", "nt-r2")],
    )
    .await;
    let notice = |id: &str, r: &str, kind: &str, created: i64| NoticeRow {
        id: id.to_string(),
        request_id: r.to_string(),
        kind: kind.to_string(),
        created_at: created,
        sealed: format!("sealed:{id}\u{0}").into_bytes(),
        sent_at: None,
        message_id: None,
    };
    // Same creation time: by id.
    let n_b = notice("nt-b", "nt-r1", "acknowledged", FAR_FUTURE_MS);
    let n_a = NoticeRow {
        sealed: all_bytes(),
        ..notice("nt-a", "nt-r1", "extended", FAR_FUTURE_MS)
    };
    let n_z = NoticeRow {
        sent_at: Some(1_500),
        message_id: Some("<z@mail.example>".to_string()),
        sealed: Vec::new(),
        ..notice("nt-z", "nt-r1", "received", 1_000)
    };
    let m = notice("nt-m", "nt-r2", "received", 500);

    let mut tx = write(store).await;
    for n in [&n_b, &n_a, &n_z, &m] {
        tx.insert_notice(n).await.unwrap();
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.notices("nt-r1").await.unwrap(),
        [n_z.clone(), n_a.clone(), n_b.clone()]
    );
    assert_eq!(tx.notices("nt-r2").await.unwrap(), std::slice::from_ref(&m));
    assert!(tx.notices("nt-missing").await.unwrap().is_empty());
    drop(tx);

    let mut tx = write(store).await;
    tx.mark_notice_sent("nt-b", FAR_FUTURE_MS + 1, "<b@mail.example>")
        .await
        .unwrap();
    commit(tx).await;
    let n_b_sent = NoticeRow {
        sent_at: Some(FAR_FUTURE_MS + 1),
        message_id: Some("<b@mail.example>".to_string()),
        ..n_b
    };
    let mut tx = read(store).await;
    assert_eq!(
        tx.notices("nt-r1").await.unwrap(),
        [n_z, n_a.clone(), n_b_sent],
        "only the sent notice changed"
    );
    assert_eq!(tx.notices("nt-r2").await.unwrap(), [m]);
    drop(tx);

    let mut tx = write(store).await;
    let err = tx.insert_notice(&n_a).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    drop(tx);
    let mut tx = write(store).await;
    let err = tx
        .insert_notice(&notice("nt-x", "nt-missing", "received", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
}

async fn check_exports(store: &Store) {
    seed(store, &["ex-a", "ex-b"], &[]).await;
    seed_requests(
        store,
        &[
            &request_row("ex-a", "ex-r1"),
            &request_row("ex-a", "ex-r2"),
            &request_row("ex-b", "ex-r3"),
        ],
    )
    .await;
    let token1: Vec<u8> = (0..32u8).map(|i| 0xFF - i).collect();
    let token2: Vec<u8> = (0..32u8).map(|i| i * 3).collect();
    let token3 = vec![0u8; 32];

    let mut tx = write(store).await;
    tx.put_export("ex-r1", 1_000, FAR_FUTURE_MS, &all_bytes(), &token1)
        .await
        .unwrap();
    tx.put_export("ex-r3", 2_000, 3_000, b"", &token3)
        .await
        .unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.export("ex-r1").await.unwrap(),
        Some((1_000, FAR_FUTURE_MS, all_bytes()))
    );
    assert_eq!(
        tx.export("ex-r3").await.unwrap(),
        Some((2_000, 3_000, Vec::new()))
    );
    assert_eq!(tx.export("ex-r2").await.unwrap(), None);
    assert_eq!(tx.export("ex-missing").await.unwrap(), None);
    // A token names its tenant and request.
    assert_eq!(
        tx.export_by_token(&token1).await.unwrap(),
        Some(("ex-a".to_string(), "ex-r1".to_string(), FAR_FUTURE_MS))
    );
    assert_eq!(
        tx.export_by_token(&token3).await.unwrap(),
        Some(("ex-b".to_string(), "ex-r3".to_string(), 3_000))
    );
    assert_eq!(tx.export_by_token(&token1[..31]).await.unwrap(), None);
    assert_eq!(tx.export_by_token(&token2).await.unwrap(), None);
    assert_eq!(tx.export_by_token(&[]).await.unwrap(), None);
    drop(tx);

    // A new package replaces the old one, and the old link stops working.
    let mut tx = write(store).await;
    tx.put_export("ex-r1", 5_000, FAR_FUTURE_MS + 1, b"second\0", &token2)
        .await
        .unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.export("ex-r1").await.unwrap(),
        Some((5_000, FAR_FUTURE_MS + 1, b"second\0".to_vec()))
    );
    assert_eq!(tx.export_by_token(&token1).await.unwrap(), None);
    assert_eq!(
        tx.export_by_token(&token2).await.unwrap(),
        Some(("ex-a".to_string(), "ex-r1".to_string(), FAR_FUTURE_MS + 1))
    );
    assert_eq!(
        tx.export("ex-r3").await.unwrap(),
        Some((2_000, 3_000, Vec::new())),
        "other packages untouched"
    );
    drop(tx);

    // A token opens one package only.
    let mut tx = write(store).await;
    let err = tx
        .put_export("ex-r2", 1, 2, b"x", &token2)
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    drop(tx);
    // A package belongs to an existing request.
    let mut tx = write(store).await;
    let err = tx
        .put_export("ex-missing", 1, 2, b"x", &[1; 32])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(tx.export("ex-r2").await.unwrap(), None);
    assert_eq!(tx.export("ex-missing").await.unwrap(), None);
}

async fn check_suppressions(store: &Store) {
    seed(store, &["sp-a", "sp-b"], &[]).await;
    let bidx = all_bytes();
    let mut tx = write(store).await;
    tx.insert_suppression("sp-a", "email", &bidx, 1_000, Some("sp-r1"))
        .await
        .unwrap();
    // Idempotent: the same person erased again, or re-suppressed without a request.
    tx.insert_suppression("sp-a", "email", &bidx, FAR_FUTURE_MS, None)
        .await
        .unwrap();
    tx.insert_suppression("sp-b", "phone", &[0u8; 32], 1_000, None)
        .await
        .unwrap();
    commit(tx).await;
    let mut tx = write(store).await;
    tx.insert_suppression("sp-a", "email", &bidx, 2_000, Some("sp-r2"))
        .await
        .unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert!(tx.is_suppressed("sp-a", "email", &bidx).await.unwrap());
    assert!(tx.is_suppressed("sp-b", "phone", &[0u8; 32]).await.unwrap());
    // Scoped by tenant and kind; the whole index must match.
    assert!(!tx.is_suppressed("sp-b", "email", &bidx).await.unwrap());
    assert!(!tx.is_suppressed("sp-a", "phone", &bidx).await.unwrap());
    assert!(!tx.is_suppressed("sp-a", "phone", &[0u8; 32]).await.unwrap());
    assert!(
        !tx.is_suppressed("sp-a", "email", &bidx[..255])
            .await
            .unwrap()
    );
    assert!(!tx.is_suppressed("sp-a", "email", &bidx[1..]).await.unwrap());
    assert!(!tx.is_suppressed("sp-a", "email", &[]).await.unwrap());
    assert!(!tx.is_suppressed("sp-c", "email", &bidx).await.unwrap());

    // The batch check answers the same, for many indexes at once.
    let key = |kind: &str, b: &[u8]| (kind.to_string(), b.to_vec());
    let wanted = vec![
        key("email", &bidx),
        key("phone", &bidx),
        key("email", &bidx[1..]),
        key("phone", &[0u8; 32]),
    ];
    let (held, suppressed) = tx.taken_identifiers("sp-a", &wanted).await.unwrap();
    assert!(held.is_empty());
    assert_eq!(suppressed, [key("email", &bidx)].into_iter().collect());
    let (_, suppressed) = tx.taken_identifiers("sp-b", &wanted).await.unwrap();
    assert_eq!(suppressed, [key("phone", &[0u8; 32])].into_iter().collect());
    let (held, suppressed) = tx.taken_identifiers("sp-a", &[]).await.unwrap();
    assert!(held.is_empty() && suppressed.is_empty());
}

/// `insert_people`: many people in multi-row statements, as a create (one) and an
/// import (invisible until committed); ledger positions 1, 2, … as listed; a taken
/// identifier is a conflict; a key under a retired KEK is stale; `taken_identifiers`
/// finds what they hold, whatever their state.
async fn check_insert_people(store: &Store) {
    seed(store, &["np-a", "np-b"], &[]).await;
    let mut tx = write(store).await;
    for (t, v) in [("np-a", 1), ("np-a", 2), ("np-b", 1)] {
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
    tx.retire_kek("np-a", 2, 1).await.unwrap();
    commit(tx).await;

    let person = |t: &str, n: usize| {
        let id = format!("{t}-p{n}");
        let bidx = format!("bidx-{n}\u{0}").into_bytes();
        NewPerson {
            subject: SubjectRow {
                birth_date: n.is_multiple_of(2).then(all_bytes),
                ..subject_row(t, &id, "active")
            },
            residence: n.is_multiple_of(3).then(|| "FR".to_string()),
            key: SubjectKeyRow {
                subject_id: id.clone(),
                tenant_id: t.to_string(),
                kek_version: 1,
                wrapped: all_bytes(),
            },
            identifiers: vec![IdentifierRow {
                tenant_id: t.to_string(),
                kind: "email".to_string(),
                bidx,
                subject_id: id.clone(),
                value: vec![0, 1, 2],
            }],
            fields: (0..3)
                .map(|f| FieldRow {
                    id: format!("{id}-f{f}"),
                    tenant_id: t.to_string(),
                    subject_id: id.clone(),
                    category: format!("user.c{f}"),
                    purposes: r#"["research"]"#.to_string(),
                    source: "import".to_string(),
                    store: "primary".to_string(),
                    collected_at: 1_000 + f,
                    value: all_bytes(),
                    version: 1,
                    supersedes: None,
                    superseded_at: None,
                })
                .collect(),
            consents: ["research", "marketing"]
                .iter()
                .map(|p| ConsentRow {
                    id: format!("{id}-{p}"),
                    tenant_id: t.to_string(),
                    subject_id: id.clone(),
                    seq: 99,
                    purpose: p.to_string(),
                    action: "grant".to_string(),
                    kind: "express".to_string(),
                    at: 1_000,
                    expires_at: None,
                    policy_version: 1,
                    parent_subject_id: None,
                    evidence: Some(all_bytes()),
                    recorded_at: 1_001,
                    recorded_by: "import".to_string(),
                })
                .collect(),
        }
    };
    // More people than one statement takes for the widest table (fields, 12 columns).
    let many: Vec<NewPerson> = (0..3_000).map(|n| person("np-a", n)).collect();
    let mut tx = write(store).await;
    tx.start_import("np-i1", "np-a", "test", 1_000)
        .await
        .unwrap();
    tx.insert_people(&many, Some("np-i1")).await.unwrap();
    tx.insert_people(&[person("np-b", 1)], None).await.unwrap();
    tx.insert_people::<NewPerson>(&[], None).await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.count_subjects("np-a").await.unwrap(),
        0,
        "still importing"
    );
    assert_eq!(tx.count_subjects("np-b").await.unwrap(), 1);
    let wanted: Vec<_> = [0, 2_999, 3_000]
        .iter()
        .map(|n| ("email".to_string(), format!("bidx-{n}\u{0}").into_bytes()))
        .collect();
    let (held, _) = tx.taken_identifiers("np-a", &wanted).await.unwrap();
    assert_eq!(held.len(), 2, "importing people hold their identifiers too");
    let (held, _) = tx.taken_identifiers("np-b", &wanted).await.unwrap();
    assert!(held.is_empty(), "another tenant's are not seen");
    drop(tx);
    let mut tx = write(store).await;
    tx.commit_import("np-i1", 2_000, 3_000, 0).await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.count_subjects("np-a").await.unwrap(), 3_000);
    for n in [0, 1_499, 2_999] {
        let want = person("np-a", n);
        let id = want.subject.id.as_str();
        assert_eq!(tx.subject("np-a", id).await.unwrap().unwrap(), want.subject);
        assert_eq!(tx.subject_key("np-a", id).await.unwrap().unwrap(), want.key);
        assert_eq!(
            tx.subject_residence("np-a", id).await.unwrap(),
            want.residence
        );
        assert_eq!(tx.identifiers("np-a", id).await.unwrap(), want.identifiers);
        assert_eq!(tx.current_fields("np-a", id).await.unwrap(), want.fields);
        let ledger = tx.consents("np-a", id).await.unwrap();
        let seqs: Vec<i64> = ledger.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, [1, 2], "positions as listed, not the rows' own");
        let purposes: Vec<&str> = ledger.iter().map(|c| c.purpose.as_str()).collect();
        assert_eq!(purposes, ["research", "marketing"]);
        assert_eq!(ledger[0].evidence.as_deref(), Some(&all_bytes()[..]));
    }
    drop(tx);

    // A taken identifier: a conflict, and nothing of the batch stays.
    let mut tx = write(store).await;
    let clash = NewPerson {
        identifiers: vec![IdentifierRow {
            subject_id: "np-a-x".to_string(),
            ..person("np-a", 7).identifiers[0].clone()
        }],
        subject: subject_row("np-a", "np-a-x", "active"),
        key: SubjectKeyRow {
            subject_id: "np-a-x".to_string(),
            ..person("np-a", 7).key
        },
        fields: Vec::new(),
        consents: Vec::new(),
        residence: None,
    };
    let err = tx.insert_people(&[clash], None).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(tx.subject("np-a", "np-a-x").await.unwrap(), None);
    drop(tx);

    // A key wrapped under a retired KEK: stale.
    let mut tx = write(store).await;
    let mut late = person("np-a", 5_000);
    late.key.kek_version = 2;
    let err = tx.insert_people(&[late], None).await.unwrap_err();
    assert!(matches!(err, StoreError::Stale(_)), "{err:?}");
    drop(tx);

    // Many erased at once: more than one statement's worth (500), one disclosed.
    let gone: Vec<String> = (0..1_200).map(|n| format!("np-a-p{n}")).collect();
    let gone: Vec<&str> = gone.iter().map(String::as_str).collect();
    let mut tx = write(store).await;
    tx.insert_disclosure(&DisclosureRow {
        id: "np-d1".to_string(),
        tenant_id: "np-a".to_string(),
        recipient: "lab".to_string(),
        purpose: "research".to_string(),
        categories: "[]".to_string(),
        subjects: 1,
        refused: 0,
        created_at: 1_000,
        actor: "op".to_string(),
    })
    .await
    .unwrap();
    tx.insert_disclosed("np-d1", "np-a", "np-a-p600", "lab", "[]", 1_000)
        .await
        .unwrap();
    let (counts, disclosed) = tx.erasure_facts("np-a", &gone).await.unwrap();
    assert_eq!(counts.len(), 1_200);
    assert!(counts.values().all(|n| *n == 1));
    assert_eq!(disclosed, ["np-a-p600".to_string()].into_iter().collect());
    let (counts, disclosed) = tx.erasure_facts("np-b", &gone).await.unwrap();
    assert!(
        counts.is_empty() && disclosed.is_empty(),
        "another tenant's"
    );
    tx.erase_subjects("np-a", &gone, 9_000).await.unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.count_subjects("np-a").await.unwrap(),
        3_000,
        "tombstones stay"
    );
    for id in ["np-a-p0", "np-a-p599", "np-a-p1199"] {
        let row = tx.subject("np-a", id).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.birth_date, row.created_at),
            ("erased", None, 9_000)
        );
        assert_eq!(tx.subject_key("np-a", id).await.unwrap(), None);
        assert!(tx.identifiers("np-a", id).await.unwrap().is_empty());
        assert!(tx.all_fields("np-a", id).await.unwrap().is_empty());
        assert!(tx.consents("np-a", id).await.unwrap().is_empty());
    }
    let kept = tx.subject("np-a", "np-a-p1200").await.unwrap().unwrap();
    assert_eq!(kept.status, "active");
    assert_eq!(
        tx.current_fields("np-a", "np-a-p1200").await.unwrap().len(),
        3
    );
    drop(tx);
    // One not there (or another tenant's): nothing is erased.
    let mut tx = write(store).await;
    let err = tx
        .erase_subjects("np-a", &["np-a-p1300", "np-b-p1"], 9_500)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

/// Crypto-shredding: the key, identifiers, fields and consents go; the subject row
/// stays as a tombstone; nothing else is touched.
async fn check_erase_subject(store: &Store) {
    seed(store, &["er-a", "er-b"], &[]).await;
    let subject = |t: &str, id: &str| SubjectRow {
        birth_date: Some(all_bytes()),
        ..subject_row(t, id, "active")
    };
    let key = |t: &str, s: &str| SubjectKeyRow {
        subject_id: s.to_string(),
        tenant_id: t.to_string(),
        kek_version: 1,
        wrapped: format!("wrapped:{s}").into_bytes(),
    };
    let ident = |t: &str, s: &str, bidx: u8| IdentifierRow {
        tenant_id: t.to_string(),
        kind: "email".to_string(),
        bidx: vec![bidx; 32],
        subject_id: s.to_string(),
        value: format!("sealed:{s}").into_bytes(),
    };
    let field = |t: &str, s: &str| FieldRow {
        id: format!("{s}-f"),
        tenant_id: t.to_string(),
        subject_id: s.to_string(),
        category: "email".to_string(),
        purposes: r#"["billing"]"#.to_string(),
        source: "form".to_string(),
        store: "vault".to_string(),
        collected_at: 1_000,
        value: format!("sealed:{s}").into_bytes(),
        version: 1,
        supersedes: None,
        superseded_at: None,
    };
    let consent = |t: &str, s: &str| ConsentRow {
        id: format!("{s}-c"),
        tenant_id: t.to_string(),
        subject_id: s.to_string(),
        seq: 0,
        purpose: "marketing".to_string(),
        action: "grant".to_string(),
        kind: "explicit".to_string(),
        at: 1_000,
        expires_at: None,
        policy_version: 1,
        parent_subject_id: None,
        evidence: None,
        recorded_at: 1_000,
        recorded_by: "app:crm".to_string(),
    };
    let people = [
        ("er-a", "er-s1", 1u8),
        ("er-a", "er-s2", 2),
        ("er-b", "er-s3", 3),
    ];
    let mut tx = write(store).await;
    for t in ["er-a", "er-b"] {
        tx.insert_kek(&KekRow {
            tenant_id: t.to_string(),
            version: 1,
            wrapped: vec![7; 57],
            created_at: 0,
            retired_at: None,
        })
        .await
        .unwrap();
    }
    for (t, s, b) in people {
        tx.insert_subject(&subject(t, s)).await.unwrap();
        tx.insert_subject_key(&key(t, s)).await.unwrap();
        tx.insert_identifier(&ident(t, s, b)).await.unwrap();
        tx.insert_field(&field(t, s)).await.unwrap();
        tx.append_consent(&consent(t, s)).await.unwrap();
    }
    commit(tx).await;

    let mut tx = write(store).await;
    tx.erase_subject("er-a", "er-s1", FAR_FUTURE_MS)
        .await
        .unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.subject("er-a", "er-s1").await.unwrap(),
        Some(SubjectRow {
            status: "erased".to_string(),
            birth_date: None,
            created_at: FAR_FUTURE_MS,
            ..subject("er-a", "er-s1")
        }),
        "a tombstone remains"
    );
    assert_eq!(tx.subject_key("er-a", "er-s1").await.unwrap(), None);
    assert!(tx.identifiers("er-a", "er-s1").await.unwrap().is_empty());
    assert_eq!(tx.lookup("er-a", "email", &[1; 32]).await.unwrap(), None);
    assert!(tx.all_fields("er-a", "er-s1").await.unwrap().is_empty());
    assert!(tx.consents("er-a", "er-s1").await.unwrap().is_empty());
    // The other subjects, in this tenant and the other, keep everything.
    for (t, s, b) in [people[1], people[2]] {
        assert_eq!(tx.subject(t, s).await.unwrap(), Some(subject(t, s)));
        assert_eq!(tx.subject_key(t, s).await.unwrap(), Some(key(t, s)));
        assert_eq!(tx.identifiers(t, s).await.unwrap(), [ident(t, s, b)]);
        assert_eq!(
            tx.lookup(t, "email", &[b; 32]).await.unwrap().as_deref(),
            Some(s)
        );
        assert_eq!(tx.all_fields(t, s).await.unwrap(), [field(t, s)]);
        assert_eq!(
            tx.consents(t, s).await.unwrap(),
            [ConsentRow {
                seq: 1,
                ..consent(t, s)
            }]
        );
    }
    drop(tx);

    // The erased identifier's slot is free again.
    let mut tx = write(store).await;
    tx.insert_identifier(&ident("er-a", "er-s2", 1))
        .await
        .unwrap();
    drop(tx);

    // A subject that is not there, or is another tenant's, cannot be erased.
    let mut tx = write(store).await;
    let err = tx.erase_subject("er-a", "er-missing", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert_eq!(err.code(), "store_corrupt");
    let err = tx.erase_subject("er-a", "er-s3", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.subject("er-b", "er-s3").await.unwrap(),
        Some(subject("er-b", "er-s3"))
    );
    assert_eq!(
        tx.subject_key("er-b", "er-s3").await.unwrap(),
        Some(key("er-b", "er-s3"))
    );
    assert_eq!(tx.all_fields("er-b", "er-s3").await.unwrap().len(), 1);
    assert_eq!(tx.consents("er-b", "er-s3").await.unwrap().len(), 1);
    assert_eq!(tx.identifiers("er-b", "er-s3").await.unwrap().len(), 1);
}

async fn check_holds(store: &Store) {
    seed(
        store,
        &["ho-a", "ho-b"],
        &[("ho-a", "ho-s1", "active"), ("ho-a", "ho-s2", "erased")],
    )
    .await;
    let hold = |id: &str, s: &str, created: i64| HoldRow {
        id: id.to_string(),
        tenant_id: "ho-a".to_string(),
        subject_id: s.to_string(),
        categories: r#"["invoice"]"#.to_string(),
        reason: "tax law: keep invoices 10 years".to_string(),
        until: FAR_FUTURE_MS,
        created_at: created,
        created_by: "op:alice".to_string(),
    };
    // By creation, then id.
    let h_z = hold("ho-z", "ho-s1", 1_000);
    let h_b = HoldRow {
        until: i64::MAX,
        ..hold("ho-b", "ho-s1", 2_000)
    };
    let h_a = hold("ho-a", "ho-s1", 2_000);
    let h_m = hold("ho-m", "ho-s2", 500);
    let mut tx = write(store).await;
    for h in [&h_b, &h_a, &h_z, &h_m] {
        tx.insert_hold(h).await.unwrap();
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.holds("ho-a", "ho-s1").await.unwrap(),
        [h_z, h_a.clone(), h_b]
    );
    assert_eq!(tx.holds("ho-a", "ho-s2").await.unwrap(), [h_m]);
    assert!(tx.holds("ho-b", "ho-s1").await.unwrap().is_empty());
    assert!(tx.holds("ho-a", "ho-missing").await.unwrap().is_empty());
    drop(tx);

    let mut tx = write(store).await;
    let err = tx.insert_hold(&h_a).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    drop(tx);
    // A hold is on an existing subject.
    let mut tx = write(store).await;
    let err = tx
        .insert_hold(&hold("ho-x", "ho-missing", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
}

async fn check_codes(store: &Store) {
    seed(store, &["cd-a"], &[]).await;
    seed_requests(
        store,
        &[&request_row("cd-a", "cd-r1"), &request_row("cd-a", "cd-r2")],
    )
    .await;
    let mut tx = write(store).await;
    assert_eq!(tx.code("cd-r1").await.unwrap(), None);
    tx.put_code("cd-r1", &all_bytes(), FAR_FUTURE_MS)
        .await
        .unwrap();
    tx.put_code("cd-r2", b"other", 1_000).await.unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.code("cd-r1").await.unwrap(),
        Some((all_bytes(), FAR_FUTURE_MS, 0))
    );
    drop(tx);

    // Wrong attempts are counted, durably.
    let mut tx = write(store).await;
    tx.count_code_attempt("cd-r1").await.unwrap();
    commit(tx).await;
    let mut tx = write(store).await;
    tx.count_code_attempt("cd-r1").await.unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.code("cd-r1").await.unwrap(),
        Some((all_bytes(), FAR_FUTURE_MS, 2))
    );
    assert_eq!(
        tx.code("cd-r2").await.unwrap(),
        Some((b"other".to_vec(), 1_000, 0))
    );
    drop(tx);

    // A new code voids the old one and starts the count afresh.
    let mut tx = write(store).await;
    tx.put_code("cd-r1", b"new\0", FAR_FUTURE_MS + 1)
        .await
        .unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.code("cd-r1").await.unwrap(),
        Some((b"new\0".to_vec(), FAR_FUTURE_MS + 1, 0))
    );
    drop(tx);

    let mut tx = write(store).await;
    tx.delete_code("cd-r1").await.unwrap();
    // Counting an attempt on no code does not create one.
    tx.count_code_attempt("cd-r1").await.unwrap();
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(tx.code("cd-r1").await.unwrap(), None);
    assert_eq!(
        tx.code("cd-r2").await.unwrap(),
        Some((b"other".to_vec(), 1_000, 0)),
        "other codes untouched"
    );
    drop(tx);

    // A code belongs to an existing request.
    let mut tx = write(store).await;
    let err = tx.put_code("cd-missing", b"x", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
}

async fn check_disclosures(store: &Store) {
    seed(store, &["di-a", "di-b"], &[]).await;
    let disclosure = |t: &str, id: &str, created: i64| DisclosureRow {
        id: id.to_string(),
        tenant_id: t.to_string(),
        recipient: "acme-payroll".to_string(),
        purpose: "payroll".to_string(),
        categories: r#"["name","iban"]"#.to_string(),
        subjects: 2,
        refused: 0,
        created_at: created,
        actor: "op:alice".to_string(),
    };
    let d2 = DisclosureRow {
        subjects: 1 << 40,
        refused: 1 << 33,
        ..disclosure("di-a", "di-2", FAR_FUTURE_MS)
    };
    let d1 = DisclosureRow {
        recipient: "bank".to_string(),
        ..disclosure("di-a", "di-1", FAR_FUTURE_MS)
    };
    let d9 = disclosure("di-a", "di-9", 1_000);
    let other = disclosure("di-b", "di-b1", 5_000);
    let mut tx = write(store).await;
    for d in [&d9, &d2, &d1, &other] {
        tx.insert_disclosure(d).await.unwrap();
    }
    tx.insert_disclosed(
        "di-9",
        "di-a",
        "di-s1",
        "acme-payroll",
        r#"["name"]"#,
        1_000,
    )
    .await
    .unwrap();
    tx.insert_disclosed(
        "di-9",
        "di-a",
        "di-s2",
        "acme-payroll",
        r#"["name"]"#,
        1_000,
    )
    .await
    .unwrap();
    tx.insert_disclosed(
        "di-1",
        "di-a",
        "di-s1",
        "bank",
        r#"["iban"]"#,
        FAR_FUTURE_MS,
    )
    .await
    .unwrap();
    tx.insert_disclosed("di-b1", "di-b", "di-s1", "x", "[]", 5_000)
        .await
        .unwrap();
    // Two disclosures at the same time, recorded out of id order.
    tx.insert_disclosed("di-9", "di-a", "di-s4", "acme-payroll", "[]", 7_000)
        .await
        .unwrap();
    tx.insert_disclosed(
        "di-2",
        "di-a",
        "di-s4",
        "acme-payroll",
        r#"["iban"]"#,
        7_000,
    )
    .await
    .unwrap();
    commit(tx).await;

    let mut tx = read(store).await;
    // Newest first; same time by id.
    assert_eq!(tx.disclosures("di-a").await.unwrap(), [d1, d2, d9]);
    assert_eq!(tx.disclosures("di-b").await.unwrap(), [other]);
    assert!(tx.disclosures("di-c").await.unwrap().is_empty());
    // A subject's recipients, oldest first, only this tenant's.
    assert_eq!(
        tx.disclosed_to("di-a", "di-s1").await.unwrap(),
        [
            ("acme-payroll".to_string(), r#"["name"]"#.to_string(), 1_000),
            ("bank".to_string(), r#"["iban"]"#.to_string(), FAR_FUTURE_MS),
        ]
    );
    assert_eq!(
        tx.disclosed_to("di-a", "di-s2").await.unwrap(),
        [("acme-payroll".to_string(), r#"["name"]"#.to_string(), 1_000)]
    );
    assert_eq!(
        tx.disclosed_to("di-a", "di-s4").await.unwrap(),
        [
            ("acme-payroll".to_string(), r#"["iban"]"#.to_string(), 7_000),
            ("acme-payroll".to_string(), "[]".to_string(), 7_000),
        ],
        "same time: by disclosure id"
    );
    assert_eq!(
        tx.disclosed_to("di-b", "di-s1").await.unwrap(),
        [("x".to_string(), "[]".to_string(), 5_000)]
    );
    assert!(tx.disclosed_to("di-b", "di-s2").await.unwrap().is_empty());
    drop(tx);

    // A subject is recorded once per disclosure, under an existing disclosure.
    let mut tx = write(store).await;
    let err = tx
        .insert_disclosed("di-9", "di-a", "di-s1", "acme-payroll", "[]", 2_000)
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    drop(tx);
    let mut tx = write(store).await;
    let err = tx
        .insert_disclosed("di-missing", "di-a", "di-s3", "x", "[]", 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(tx.disclosed_to("di-a", "di-s1").await.unwrap().len(), 2);
    assert!(tx.disclosed_to("di-a", "di-s3").await.unwrap().is_empty());
}

/// The sweeper's purge: packages and codes past their expiry go, the rest stays,
/// and only the given tenant's.
async fn check_purge_expired(store: &Store) {
    seed(store, &["pu-a", "pu-b"], &[]).await;
    seed_requests(
        store,
        &[
            &request_row("pu-a", "pu-r1"),
            &request_row("pu-a", "pu-r2"),
            &request_row("pu-a", "pu-r3"),
            &request_row("pu-b", "pu-r4"),
        ],
    )
    .await;
    let now = FAR_FUTURE_MS;
    let mut tx = write(store).await;
    tx.put_export("pu-r1", 1, now - 1, b"p1", &[1; 32])
        .await
        .unwrap();
    // Expiring exactly now: not yet past its expiry.
    tx.put_export("pu-r2", 1, now, b"p2", &[2; 32])
        .await
        .unwrap();
    tx.put_export("pu-r3", 1, now - 5, b"p3", &[3; 32])
        .await
        .unwrap();
    tx.put_export("pu-r4", 1, 0, b"p4", &[4; 32]).await.unwrap();
    tx.put_code("pu-r1", b"c1", now - 1).await.unwrap();
    tx.put_code("pu-r2", b"c2", now + 1).await.unwrap();
    tx.put_code("pu-r4", b"c4", 0).await.unwrap();
    commit(tx).await;

    let mut tx = write(store).await;
    assert_eq!(tx.purge_expired("pu-a", now).await.unwrap(), (2, 1));
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(tx.export("pu-r1").await.unwrap(), None);
    assert_eq!(tx.export("pu-r3").await.unwrap(), None);
    assert_eq!(tx.export_by_token(&[1; 32]).await.unwrap(), None);
    assert_eq!(
        tx.export("pu-r2").await.unwrap(),
        Some((1, now, b"p2".to_vec()))
    );
    assert_eq!(tx.code("pu-r1").await.unwrap(), None);
    assert_eq!(
        tx.code("pu-r2").await.unwrap(),
        Some((b"c2".to_vec(), now + 1, 0))
    );
    // The other tenant's expired items wait for its own sweep.
    assert_eq!(
        tx.export("pu-r4").await.unwrap(),
        Some((1, 0, b"p4".to_vec()))
    );
    assert_eq!(
        tx.code("pu-r4").await.unwrap(),
        Some((b"c4".to_vec(), 0, 0))
    );
    drop(tx);

    let mut tx = write(store).await;
    assert_eq!(tx.purge_expired("pu-a", now).await.unwrap(), (0, 0));
    assert_eq!(tx.purge_expired("pu-a", now + 2).await.unwrap(), (1, 1));
    assert_eq!(tx.purge_expired("pu-b", now).await.unwrap(), (1, 1));
    assert_eq!(tx.purge_expired("pu-c", now).await.unwrap(), (0, 0));
    commit(tx).await;
    let mut tx = read(store).await;
    for r in ["pu-r1", "pu-r2", "pu-r3", "pu-r4"] {
        assert_eq!(tx.export(r).await.unwrap(), None);
        assert_eq!(tx.code(r).await.unwrap(), None);
    }
}

/// After a reopen (migrations already applied), the data is still there.
async fn check_reopened(store: &Store) {
    let mut tx = read(store).await;
    assert!(tx.tenant("tn-a").await.unwrap().is_some());
    assert_eq!(tx.api_keys().await.unwrap().len(), 3);
    let heads = tx.audit_heads().await.unwrap();
    assert!(heads.len() > 2, "{heads:?}");
    for head in heads {
        let rows = chain_rows(&mut tx, &head.chain).await;
        assert_eq!(verify_chain(&genesis_of(&head.chain), &rows), head);
    }
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
    check_ping_and_close(&store).await;
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
        check_ping_and_close(&store).await;
    })
    .await;
    let dropped = db.drop_db().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    dropped.expect("drop the PostgreSQL test database");
}

/// An `http` connection's sealed secret is kept, replaced and re-sealed with its URL;
/// a job handed to it waits (no lease) until answered once, or is released to be
/// claimed again from a given time, or found overdue.
async fn check_http_connector(store: &Store) {
    seed(store, &["t-http"], &[]).await;
    let conn = ConnectionRow {
        tenant_id: "t-http".into(),
        id: "crm".into(),
        kind: "http".into(),
        redacted: "https://crm.example/vow".into(),
        kek_version: 1,
        url_sealed: vec![1, 2, 3],
        max_concurrency: 4,
        created_at: 10,
        updated_at: 10,
        secret_sealed: Some(all_bytes()),
    };
    let mut tx = write(store).await;
    tx.put_connection(&conn).await.unwrap();
    commit(tx).await;
    let mut tx = write(store).await;
    let got = tx.connection("t-http", "crm").await.unwrap().unwrap();
    assert_eq!(got.secret_sealed.as_deref(), Some(&all_bytes()[..]));
    tx.reseal_connection("t-http", "crm", 2, &[4, 5], Some(&[6, 7]))
        .await
        .unwrap();
    let got = tx.connection("t-http", "crm").await.unwrap().unwrap();
    assert_eq!(
        (got.kek_version, got.url_sealed, got.secret_sealed),
        (2, vec![4, 5], Some(vec![6, 7]))
    );
    let mut db = conn.clone();
    db.id = "orders".into();
    db.kind = "sqlite".into();
    db.secret_sealed = None;
    tx.put_connection(&db).await.unwrap();
    assert_eq!(
        tx.connection("t-http", "orders")
            .await
            .unwrap()
            .unwrap()
            .secret_sealed,
        None
    );
    let job = |id: &str| JobRow {
        id: id.into(),
        tenant_id: "t-http".into(),
        request_id: format!("r-{id}"),
        dataset: "crm".into(),
        connection_id: "crm".into(),
        kind: "access".into(),
        state: "pending".into(),
        attempts: 0,
        lease_owner: None,
        lease_until: None,
        sealed: Some(vec![9]),
        error: None,
        created_at: 100,
        updated_at: 100,
        finished_at: None,
    };
    assert!(tx.insert_job(&job("j-http-1")).await.unwrap());
    assert!(tx.insert_job(&job("j-http-2")).await.unwrap());
    commit(tx).await;

    let mut tx = write(store).await;
    let claimed = tx
        .claim_jobs(Some("t-http"), "me", 1000, 2000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(
        tx.set_job_waiting("j-http-1", "me", 5000, 1001)
            .await
            .unwrap()
    );
    assert!(
        !tx.set_job_waiting("j-http-1", "me", 5000, 1001)
            .await
            .unwrap(),
        "once"
    );
    assert!(tx.release_job("j-http-2", "me", 3000, 1001).await.unwrap());
    assert!(
        !tx.release_job("j-http-2", "me", 3000, 1001).await.unwrap(),
        "no longer held"
    );
    let w = tx.job("t-http", "j-http-1").await.unwrap().unwrap();
    assert_eq!(
        (w.state.as_str(), w.lease_owner, w.lease_until),
        ("waiting", None, None)
    );
    assert_eq!(tx.job_respond_by("j-http-1").await.unwrap(), Some(5000));
    assert!(tx.job("other", "j-http-1").await.unwrap().is_none());
    // Released: not claimable before its time, nor is a waiting job ever.
    assert!(
        tx.claim_jobs(Some("t-http"), "you", 2999, 9999, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = tx
        .claim_jobs(Some("t-http"), "you", 3000, 9999, 10)
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["j-http-2"]
    );
    assert_eq!(again[0].attempts, 2);
    assert!(
        tx.overdue_waiting_jobs("t-http", 4999)
            .await
            .unwrap()
            .is_empty()
    );
    let overdue = tx.overdue_waiting_jobs("t-http", 5000).await.unwrap();
    assert_eq!(overdue.len(), 1);
    assert!(
        tx.finish_waiting_job("j-http-1", "done", None, Some(&[8, 8]), 1500)
            .await
            .unwrap()
    );
    assert!(
        !tx.finish_waiting_job("j-http-1", "failed", Some("late"), None, 1600)
            .await
            .unwrap(),
        "answered once"
    );
    let d = tx.job("t-http", "j-http-1").await.unwrap().unwrap();
    assert_eq!(
        (d.state.as_str(), d.sealed, d.finished_at, d.error),
        ("done", Some(vec![8, 8]), Some(1500), None)
    );
    commit(tx).await;
}
