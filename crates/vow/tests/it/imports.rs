//! Imports commit in batches (issue 9): reads go on while a large import runs, the
//! import's subjects become visible together when it commits, and nothing of a
//! failed, bad or killed import stays behind.

use crate::harness::Server;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use vow_engine::LookupKind;
use vow_engine::vault::import::{ABANDONED_AFTER_MS, Row, parse_csv};
use vow_engine::{Actor, ImportOptions};

fn rows(from: usize, to: usize) -> Vec<Row> {
    let mut csv = String::from("email,consents,user.name[research]\n");
    for i in from..to {
        csv.push_str(&format!("p{i}@example.org,research:express,Person {i}\n"));
    }
    parse_csv(&csv).unwrap()
}

fn actor() -> Actor {
    Actor::local("test")
}

async fn visible(s: &Server, tenant: &str) -> i64 {
    let mut tx = s.store().read().await.unwrap();
    tx.count_subjects(tenant).await.unwrap()
}

async fn imports(s: &Server, tenant: &str) -> Vec<vow_store::ImportRow> {
    let mut tx = s.store().read().await.unwrap();
    tx.imports(tenant, 100).await.unwrap()
}

async fn chain_verifies(s: &Server) {
    let report = s
        .engine
        .verify_audit(&actor(), None, &Default::default(), |_| {})
        .await
        .unwrap();
    assert!(report.ok, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_import_becomes_visible_at_once_and_reads_go_on_while_it_runs() {
    let s = Server::start().await;
    s.tenant("acme").await;
    let tenant = "acme".parse().unwrap();
    s.engine
        .import(
            &actor(),
            &tenant,
            rows(0, 1),
            ImportOptions::default(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(visible(&s, "acme").await, 1);

    // Half-way through, look at the store from outside: earlier batches are committed
    // (the import's heartbeat counts them) but none of their subjects can be seen.
    let store = s.store().clone();
    let handle = tokio::runtime::Handle::current();
    let seen_midway = Arc::new(std::sync::Mutex::new(None));
    let seen = seen_midway.clone();
    let total = 4000;
    let feed = rows(1, total + 1)
        .into_iter()
        .enumerate()
        .map(move |(i, r)| {
            if i == total / 2 {
                let store = store.clone();
                let state = tokio::task::block_in_place(|| {
                    handle.block_on(async move {
                        let mut tx = store.read().await.unwrap();
                        let running = tx.imports("acme", 10).await.unwrap();
                        (tx.count_subjects("acme").await.unwrap(), running[0].clone())
                    })
                });
                *seen.lock().unwrap() = Some(state);
            }
            r
        });

    // Meanwhile audited reads (lookups) run; each needs a write for its audit entry.
    let done = Arc::new(AtomicBool::new(false));
    let during = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (engine, done, during) = (s.engine.clone(), done.clone(), during.clone());
        let tenant = tenant.clone();
        tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                let found = engine
                    .lookup(&actor(), &tenant, LookupKind::Email, "p0@example.org")
                    .await
                    .unwrap();
                assert!(found.is_some());
                if !done.load(Ordering::SeqCst) {
                    during.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    let report = s
        .engine
        .import(&actor(), &tenant, feed, ImportOptions::default(), |_| {})
        .await
        .unwrap();
    done.store(true, Ordering::SeqCst);
    reader.await.unwrap();

    assert!(report.committed);
    assert_eq!(report.imported, total);
    let (count_midway, import_midway) = seen_midway.lock().unwrap().clone().unwrap();
    assert_eq!(
        count_midway, 1,
        "an import's subjects are invisible until it commits"
    );
    assert_eq!(import_midway.state, "running");
    assert_eq!(import_midway.id, report.import_id);
    assert!(
        import_midway.imported >= 1000,
        "batches were committed before the end: {import_midway:?}"
    );
    // A whole import in one transaction would have held every audited read back.
    assert!(
        during.load(Ordering::SeqCst) > 0,
        "no read completed while the import ran"
    );
    assert_eq!(visible(&s, "acme").await, 1 + total as i64);
    let found = s
        .engine
        .lookup(&actor(), &tenant, LookupKind::Email, "p4000@example.org")
        .await
        .unwrap();
    assert!(found.is_some());
    let last = &imports(&s, "acme").await[0];
    assert_eq!(
        (last.state.as_str(), last.imported),
        ("committed", total as i64)
    );
    chain_verifies(&s).await;
}

#[tokio::test]
async fn a_bad_row_undoes_the_batches_already_written() {
    let s = Server::start().await;
    s.tenant("acme").await;
    let tenant = "acme".parse().unwrap();
    let mut feed = rows(0, 3000);
    // A duplicate of an earlier row (its subject already committed in an earlier
    // batch, still invisible), then a bad row: several batches were written by then.
    let dup = feed[10].1.clone();
    feed[2000].1 = dup;
    feed[2500].1 = Err("a bad row".into());
    let report = s
        .engine
        .import(&actor(), &tenant, feed, ImportOptions::default(), |_| {})
        .await
        .unwrap();
    assert!(!report.committed);
    assert_eq!(report.imported, 0);
    let lines: Vec<usize> = report.bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, vec![2002, 2502], "{:?}", report.bad);
    assert_eq!(visible(&s, "acme").await, 0);
    let i = &imports(&s, "acme").await[0];
    assert_eq!(i.state, "failed");
    // Nothing is left for a later clean-up: every written row was removed.
    let mut tx = s.store().read().await.unwrap();
    assert!(tx.unfinished_imports(i64::MAX).await.unwrap().is_empty());
    drop(tx);
    // The same people import cleanly afterwards: no identifier was left taken.
    let report = s
        .engine
        .import(
            &actor(),
            &tenant,
            rows(0, 3000),
            ImportOptions::default(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(report.imported, 3000);
    chain_verifies(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_is_undone_once_its_heartbeat_stops() {
    let (s, clock) = Server::start_clocked("2026-11-02T10:00:00Z").await;
    s.tenant("acme").await;
    let tenant: vow_core::TenantId = "acme".parse().unwrap();
    // The import's task dies half-way (as its process would under kill -9): no
    // undo runs, batches already committed stay.
    let engine = s.engine.clone();
    let t = tenant.clone();
    let dying = tokio::spawn(async move {
        let feed = rows(0, 3000).into_iter().enumerate().map(|(i, r)| {
            if i == 2500 {
                panic!("killed");
            }
            r
        });
        engine
            .import(&actor(), &t, feed, ImportOptions::default(), |_| {})
            .await
    });
    assert!(dying.await.is_err(), "the import task died");
    let i = imports(&s, "acme").await[0].clone();
    assert_eq!(i.state, "running");
    assert!(i.imported >= 1000, "{i:?}");
    assert_eq!(visible(&s, "acme").await, 0);

    // Its heartbeat is recent: it may be alive in another process, so it is left.
    let undone = s.engine.undo_abandoned_imports(&actor()).await.unwrap();
    assert_eq!(undone.imports, 0);
    clock.advance(jiff::SignedDuration::from_millis(ABANDONED_AFTER_MS + 1000));
    let undone = s.engine.undo_abandoned_imports(&actor()).await.unwrap();
    assert_eq!(undone.imports, 1);
    assert_eq!(undone.subjects, i.imported as u64);
    assert_eq!(imports(&s, "acme").await[0].state, "failed");
    let mut tx = s.store().read().await.unwrap();
    assert!(tx.unfinished_imports(i64::MAX).await.unwrap().is_empty());
    drop(tx);
    let report = s
        .engine
        .import(
            &actor(),
            &tenant,
            rows(0, 3000),
            ImportOptions::default(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(report.imported, 3000);
    assert_eq!(visible(&s, "acme").await, 3000);
    chain_verifies(&s).await;
}

#[tokio::test]
async fn imports_commit_and_undo_on_postgres_too() {
    let Some(s) = Server::start_on(crate::harness::Backend::Postgres).await else {
        return;
    };
    s.tenant("acme").await;
    let tenant = "acme".parse().unwrap();
    let mut feed = rows(0, 1500);
    feed[1200].1 = Err("a bad row".into());
    let report = s
        .engine
        .import(&actor(), &tenant, feed, ImportOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!((report.committed, report.bad.len()), (false, 1));
    assert_eq!(visible(&s, "acme").await, 0);
    let report = s
        .engine
        .import(
            &actor(),
            &tenant,
            rows(0, 1500),
            ImportOptions { skip_bad: true },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!((report.committed, report.imported), (true, 1500));
    assert_eq!(visible(&s, "acme").await, 1500);
    let states: Vec<String> = imports(&s, "acme")
        .await
        .into_iter()
        .map(|i| i.state)
        .collect();
    assert_eq!(states, vec!["committed", "failed"]);
    chain_verifies(&s).await;
    s.drop_db().await;
}

#[tokio::test]
async fn imports_are_listed_over_http_for_keys_that_write_subjects() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let tenant = "acme".parse().unwrap();
    let report = s
        .engine
        .import(
            &actor(),
            &tenant,
            rows(0, 3),
            ImportOptions::default(),
            |_| {},
        )
        .await
        .unwrap();
    let (st, list) = s.get(&op, "/v1/tenants/acme/imports").await;
    assert_eq!(st, reqwest::StatusCode::OK, "{list}");
    assert_eq!(list[0]["id"], report.import_id.as_str());
    assert_eq!(list[0]["state"], "committed");
    assert_eq!(list[0]["imported"], 3);
    let app = s.key("acme", "app", Some(&["research"])).await;
    let (st, _) = s.get(&app, "/v1/tenants/acme/imports").await;
    assert_eq!(st, reqwest::StatusCode::FORBIDDEN);
}

/// The batch pipeline (issue 12): identifiers are checked for the whole batch at
/// once, yet a parent named by a later row of the same import is found, a person
/// already in the store or repeated within the import is a bad row, and each person
/// gets their ledger in order. On both stores.
#[tokio::test]
async fn a_batch_finds_parents_earlier_in_the_file_and_people_already_there() {
    for backend in [
        crate::harness::Backend::Sqlite,
        crate::harness::Backend::Postgres,
    ] {
        let Some(s) = Server::start_on_at(backend, crate::harness::TODAY).await else {
            continue;
        };
        let op = s.tenant("acme").await;
        let tenant = "acme".parse().unwrap();
        s.panelist(&op, "acme", "ada@example.org", "Ada").await;
        let mut jsonl = String::new();
        let adult = |email: &str| {
            serde_json::json!({"identifiers": {"email": email}, "birth_date": "1980-02-01",
                "fields": [{"category": "user.name", "value": "Someone", "purposes": ["research"]}],
                "consents": [{"purpose": "research"}, {"purpose": "marketing.email"}]})
        };
        for n in 0..120 {
            jsonl.push_str(&adult(&format!("p{n}@example.org")).to_string());
            jsonl.push('\n');
        }
        // Line 121: a parent; 122: their child, naming them; 123: already in the
        // store; 124: repeats line 1 of this import.
        jsonl.push_str(&adult("mum@example.org").to_string());
        jsonl.push('\n');
        jsonl.push_str(&serde_json::json!({"identifiers": {"email": "kid@example.org"}, "birth_date": "2014-06-01",
            "fields": [{"category": "user.name", "value": "Kid", "purposes": ["research"]}],
            "consents": [{"purpose": "research", "kind": "parental", "parent": {"email": "mum@example.org"}}]}).to_string());
        jsonl.push('\n');
        jsonl.push_str(&adult("ada@example.org").to_string());
        jsonl.push('\n');
        jsonl.push_str(&adult("p0@example.org").to_string());
        jsonl.push('\n');
        let rows: Vec<Row> = vow_engine::vault::import::parse_jsonl(&jsonl).collect();
        let report = s
            .engine
            .import(
                &actor(),
                &tenant,
                rows.clone(),
                ImportOptions::default(),
                |_| {},
            )
            .await
            .unwrap();
        assert!(!report.committed, "{backend:?}");
        let bad: Vec<(usize, bool)> = report
            .bad
            .iter()
            .map(|b| (b.line, b.error.contains("already")))
            .collect();
        assert_eq!(bad, [(123, true), (124, true)], "{:?}", report.bad);
        assert_eq!(visible(&s, "acme").await, 1);

        let report = s
            .engine
            .import(
                &actor(),
                &tenant,
                rows,
                ImportOptions { skip_bad: true },
                |_| {},
            )
            .await
            .unwrap();
        assert_eq!(
            (report.committed, report.imported),
            (true, 122),
            "{backend:?}"
        );
        assert_eq!(visible(&s, "acme").await, 123);
        let kid = s
            .engine
            .lookup(&actor(), &tenant, LookupKind::Email, "kid@example.org")
            .await
            .unwrap()
            .expect("the child was imported");
        let mum = s
            .engine
            .lookup(&actor(), &tenant, LookupKind::Email, "mum@example.org")
            .await
            .unwrap()
            .unwrap();
        let p7 = s
            .engine
            .lookup(&actor(), &tenant, LookupKind::Email, "p7@example.org")
            .await
            .unwrap()
            .unwrap();
        let mut tx = s.store().read().await.unwrap();
        let ledger = tx.consents("acme", &kid).await.unwrap();
        assert_eq!(ledger[0].parent_subject_id.as_deref(), Some(mum.as_str()));
        let ledger = tx.consents("acme", &p7).await.unwrap();
        let steps: Vec<(i64, &str)> = ledger.iter().map(|c| (c.seq, c.purpose.as_str())).collect();
        assert_eq!(steps, [(1, "research"), (2, "marketing.email")]);
        drop(tx);
        chain_verifies(&s).await;
        if backend == crate::harness::Backend::Postgres {
            s.drop_db().await;
        }
    }
}

/// A key rotation while an import runs: a batch sealed under the retired KEK is
/// refused by the store (stale), put back and prepared again with the new keys, so
/// every person is imported and readable, on both stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_rotation_during_an_import_loses_no_one() {
    for backend in [
        crate::harness::Backend::Sqlite,
        crate::harness::Backend::Postgres,
    ] {
        let Some(s) = Server::start_on_at(backend, crate::harness::TODAY).await else {
            continue;
        };
        s.tenant("acme").await;
        let tenant: vow_core::TenantId = "acme".parse().unwrap();
        let engine = s.engine.clone();
        let mut rotated = false;
        let report = s
            .engine
            .import(
                &actor(),
                &tenant,
                rows(0, 4000),
                ImportOptions::default(),
                |seen| {
                    // After the first batch is written (the next is prepared by then, under
                    // the old keys), rotate the tenant's keys to the end: the old KEK is
                    // retired before that batch is written.
                    if seen > 0 && !rotated {
                        rotated = true;
                        tokio::task::block_in_place(|| {
                            tokio::runtime::Handle::current().block_on(async {
                                engine.rotate_keys(&actor(), &tenant, |_| {}).await.unwrap();
                            })
                        });
                    }
                },
            )
            .await
            .unwrap();
        assert!(rotated);
        assert_eq!(
            (report.committed, report.imported),
            (true, 4000),
            "{backend:?}"
        );
        assert_eq!(visible(&s, "acme").await, 4000);
        for n in [0, 1999, 3999] {
            let id = s
                .engine
                .lookup(
                    &actor(),
                    &tenant,
                    LookupKind::Email,
                    &format!("p{n}@example.org"),
                )
                .await
                .unwrap()
                .expect("imported");
            let values = s
                .engine
                .read(
                    &actor(),
                    &tenant,
                    &id,
                    &"research".parse().unwrap(),
                    &["user.name".to_string()],
                )
                .await
                .unwrap();
            assert_eq!(values[0].value, format!("Person {n}"), "{backend:?}");
        }
        chain_verifies(&s).await;
        if backend == crate::harness::Backend::Postgres {
            s.drop_db().await;
        }
    }
}
