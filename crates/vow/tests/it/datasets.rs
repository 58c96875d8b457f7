//! Datasets (issue 11): `vow dataset check` on a fideslang manifest, as a Fides user
//! has it, with every problem at its line and the categories checked against a policy.

use crate::cli::{text, vow};
use serde_json::Value;

const SHOP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/shop/dataset.yml"
);

#[test]
fn a_fides_format_dataset_file_loads_unchanged() {
    let o = vow(&["dataset", "check", SHOP]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("8 collection(s)"), "{out}");
    assert!(
        out.contains("identity email: shop.customers.email, shop.visits.email"),
        "{out}"
    );
    let o = vow(&["dataset", "check", SHOP, "--output", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["summary"]["collections"], 8);
    assert_eq!(
        v["summary"]["identities"]["phone_number"][0],
        "shop.customers.phone"
    );
}

#[test]
fn problems_name_their_line_and_the_policy_decides_categories() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    let source = std::fs::read_to_string(SHOP).unwrap();
    std::fs::write(
        &bad,
        source.replacen("field: products.id", "field: product.id", 1),
    )
    .unwrap();
    let line = source
        .lines()
        .position(|l| l.contains("field: products.id"))
        .unwrap()
        + 1;
    let o = vow(&["dataset", "check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("bad.yml:{line}:")) && err.contains("error[unknown_field]"),
        "{err}"
    );
    // Against the research operator's policy, the shop's financial data is unknown.
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/research-operator/policy.yaml"
    );
    let o = vow(&[
        "dataset", "check", SHOP, "--policy", policy, "--output", "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["code"] == "unknown_category"),
        "{v}"
    );
    // A missing file is a usage error.
    let o = vow(&["dataset", "check", "/nonexistent/d.yml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
