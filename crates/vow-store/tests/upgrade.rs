//! Upgrading a store made before the audit chains were per tenant (migration 0019):
//! its one chain, head, signature and checkpoints become the store's chain as they
//! were, every hash still holds, and the next entry of a tenant begins that tenant's
//! own chain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use vow_store::{NewAudit, STORE_CHAIN, Store};

/// A stand-in chain function; the store only keeps what it is given.
fn link(prev: &[u8; 32], pos: i64, e: &NewAudit) -> [u8; 32] {
    let mut h = *prev;
    h[0] = h[0].wrapping_add(pos as u8);
    for (i, b) in e.action.bytes().enumerate() {
        h[(i + 1) % 32] ^= b;
    }
    h
}

fn entry(action: &str) -> NewAudit {
    NewAudit {
        at: 1_000,
        tenant_id: Some("old".into()),
        actor: "op".into(),
        action: action.into(),
        subject_id: None,
        purpose: None,
        detail: "{}".into(),
    }
}

#[tokio::test]
async fn a_store_from_before_tenant_chains_keeps_its_chain_as_the_store_chain() {
    let dir = tempfile::tempdir().unwrap();
    // The migrations as they stood before 0019.
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    let all = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for f in std::fs::read_dir(&all).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().into_string().unwrap();
        if name.as_str() < "0019" {
            std::fs::copy(f.path(), old.join(&name)).unwrap();
        }
    }
    let url = format!("sqlite://{}", dir.path().join("vow.db").display());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("{url}?mode=rwc"))
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    // Three entries of one chain, its signed head and a checkpoint, as the old code wrote them.
    let mut prev = [0u8; 32];
    let entries = [
        entry("tenant.create"),
        entry("subject.create"),
        entry("read"),
    ];
    for (i, e) in entries.iter().enumerate() {
        let seq = i as i64 + 1;
        prev = link(&prev, seq, e);
        sqlx::query(
            "INSERT INTO audit (seq, at, tenant_id, actor, action, subject_id, purpose, detail, hash)
             VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7)",
        )
        .bind(seq)
        .bind(e.at)
        .bind(e.tenant_id.clone())
        .bind(e.actor.clone())
        .bind(e.action.clone())
        .bind(e.detail.clone())
        .bind(prev.to_vec())
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE audit_head SET seq = 3, hash = $1, at = 1000, sig = $2 WHERE id = 1")
        .bind(prev.to_vec())
        .bind(vec![9u8; 64])
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO audit_checkpoints (seq, hash, at, sig) VALUES (2, $1, 5, $2)")
        .bind(vec![2u8; 32])
        .bind(vec![7u8; 64])
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = Store::open(&url).await.expect("open and migrate");
    let mut tx = store.read().await.unwrap();
    let heads = tx.audit_heads().await.unwrap();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head = &heads[0];
    assert_eq!(
        (head.chain.as_str(), head.pos, head.hash, head.at),
        (STORE_CHAIN, 3, prev, 1_000)
    );
    assert_eq!(head.sig, Some(vec![9u8; 64]), "the signature is kept");
    let rows = tx.audit_chain_page(STORE_CHAIN, 0, 10).await.unwrap();
    let mut again = [0u8; 32];
    for (i, row) in rows.iter().enumerate() {
        assert_eq!((row.pos, row.seq), (i as i64 + 1, i as i64 + 1));
        again = link(&again, row.pos, &row.entry);
        assert_eq!(
            row.hash,
            again.to_vec(),
            "the hash of entry {} holds",
            row.pos
        );
    }
    assert_eq!(rows.len(), 3);
    let cp = tx.latest_audit_checkpoint().await.unwrap().unwrap();
    assert_eq!((cp.seq, cp.entries), (2, 2));
    drop(tx);

    // The tenant's next entry begins its own chain (the store's chain is locked with it).
    let mut tx = store.write().await.unwrap();
    let locked = tx.lock_audit_heads(&["old"]).await.unwrap();
    assert_eq!(locked.len(), 2);
    assert!(locked[1].created);
    let new = tx
        .append_audit("old", &[entry("later")], link, |_| vec![1])
        .await
        .unwrap();
    assert_eq!(new.pos, 1);
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let rows = tx.audit_page(0, 10).await.unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        (rows[3].seq, rows[3].chain.as_str(), rows[3].pos),
        (4, "old", 1)
    );
    drop(tx);
    store.close().await;
}
