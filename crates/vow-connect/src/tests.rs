#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use crate::check::check;
use vow_core::Category;
use vow_policy::Diagnostic;

const SHOP: &str = include_str!("../../../examples/shop/dataset.yml");

fn problems(source: &str) -> Vec<Diagnostic> {
    check(source, "d.yml", None).expect_err("problems")
}

fn codes(source: &str) -> Vec<(&'static str, usize)> {
    problems(source)
        .into_iter()
        .map(|d| (d.code, d.line))
        .collect()
}

#[test]
fn the_shop_manifest_loads_with_its_identities_and_categories() {
    let c = check(SHOP, "shop.yml", None).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.summary.datasets, 1);
    assert_eq!(c.summary.collections, 8);
    assert_eq!(
        c.summary.identities["email"],
        ["shop.customers.email", "shop.visits.email"]
    );
    assert_eq!(
        c.summary.identities["phone_number"],
        ["shop.customers.phone"]
    );
    assert!(
        c.summary
            .categories
            .contains("user.financial.account_number")
    );
    // fides_meta and fidesops_meta read the same.
    let orders = &c.manifest.dataset[0].collections[2];
    assert!(orders.fields[0].meta().unwrap().primary_key);
    assert_eq!(orders.fields[1].meta().unwrap().references.len(), 1);
    // Nested document fields.
    let visits = &c.manifest.dataset[0].collections[7];
    assert_eq!(visits.fields[3].fields.len(), 2);
}

#[test]
fn a_reference_to_nothing_names_its_line() {
    let bad = SHOP.replacen("field: addresses.id", "field: adresses.id", 1);
    let p = problems(&bad);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].code, "unknown_field");
    let line = SHOP
        .lines()
        .position(|l| l.contains("field: addresses.id"))
        .unwrap()
        + 1;
    assert_eq!(p[0].line, line);
    assert!(
        p[0].to_string().starts_with(&format!("d.yml:{line}:")),
        "{}",
        p[0]
    );
    assert!(p[0].path.ends_with("references[0].field"), "{}", p[0].path);
}

#[test]
fn an_unreachable_collection_is_reported() {
    // Cut the logins' only link to the customers: nothing leads there any more.
    let bad = SHOP.replace(
        "          - name: customer_id\n            data_categories: [user.unique_id]\n            fides_meta:\n              references:\n                - dataset: shop\n                  field: customers.id\n                  direction: from\n          - name: at",
        "          - name: customer_id\n            data_categories: [user.unique_id]\n          - name: at",
    );
    assert_ne!(bad, SHOP);
    let p = problems(&bad);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].code, "unreachable");
    assert!(p[0].path.contains("collections[6]"), "{}", p[0].path);
    // skip_processing says so on purpose.
    let skipped = bad.replace(
        "      - name: logins\n",
        "      - name: logins\n        fides_meta:\n          skip_processing: true\n",
    );
    assert!(check(&skipped, "d.yml", None).is_ok());
}

#[test]
fn identities_types_strategies_and_directions_vow_cannot_use_are_refused() {
    let bad = SHOP
        .replacen("identity: phone_number", "identity: loyalty_card", 1)
        .replacen("data_type: integer", "data_type: money", 1)
        .replacen("strategy: hmac", "strategy: aes_encrypt", 1)
        .replacen("direction: to", "direction: sideways", 1)
        .replacen("strategy: delete", "strategy: shred", 1);
    let found: Vec<&str> = codes(&bad).into_iter().map(|(c, _)| c).collect();
    for code in [
        "unknown_identity",
        "unknown_data_type",
        "unsupported_strategy",
        "bad_direction",
    ] {
        assert!(found.contains(&code), "{code} in {found:?}");
    }
    assert_eq!(
        found
            .iter()
            .filter(|c| **c == "unsupported_strategy")
            .count(),
        2
    );
}

#[test]
fn categories_are_checked_against_the_policy_when_given() {
    // Without a policy: fideslang's user.* and system.* only.
    let p = problems(&SHOP.replacen("[user.name]", "[customer.name]", 1));
    assert_eq!(p[0].code, "unknown_category");
    let p = problems(&SHOP.replacen("[user.name]", "[User.Name]", 1));
    assert_eq!(p[0].code, "bad_category");
    // With a policy that knows only contact data and names.
    let known = |c: &Category| {
        ["user.contact", "user.name", "user.unique_id"]
            .iter()
            .any(|k| c.is_within(&Category::new(*k).unwrap()))
    };
    let p = check(SHOP, "d.yml", Some(&known)).unwrap_err();
    assert!(p.iter().all(|d| d.code == "unknown_category"), "{p:?}");
    assert!(
        p.iter()
            .any(|d| d.path.contains("collections[5]") && d.message.contains("policy")),
        "{p:?}"
    );
}

#[test]
fn shapes_names_and_duplicates() {
    assert_eq!(codes("dataset: 3")[0].0, "yaml");
    assert_eq!(codes("datasets: []")[0].0, "yaml");
    assert_eq!(codes(&"x".repeat(2 * 1024 * 1024))[0].0, "too_large");
    let dup = SHOP.replacen("- name: street", "- name: city", 1);
    assert_eq!(codes(&dup)[0].0, "duplicate");
    let bad_name = SHOP.replacen("- name: products", "- name: \"products; drop table x\"", 1);
    let found = codes(&bad_name);
    assert!(found.iter().any(|(c, _)| *c == "bad_name"), "{found:?}");
    let no_pk = SHOP.replacen(
        "          - name: id\n            data_categories: [system.operations]\n            fides_meta:\n              primary_key: true\n          - name: title",
        "          - name: id\n            data_categories: [system.operations]\n          - name: title",
        1,
    );
    assert_ne!(no_pk, SHOP);
    let c = check(&no_pk, "d.yml", None).unwrap();
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert_eq!(c.warnings[0].code, "no_primary_key");
}

#[test]
fn yaml_errors_name_the_place_not_the_text() {
    let p = problems("dataset:\n  - fides_key: shop\n    collections: secret-value-here\n");
    assert_eq!(p[0].code, "yaml");
    assert!(!p[0].message.contains("secret-value-here"), "{}", p[0]);
}

#[test]
fn yaml_errors_have_their_position() {
    let p = problems("dataset:\n  - fides_key: shop\n    collections: [x]\n");
    assert_eq!(p[0].code, "yaml");
    assert!(p[0].line >= 3, "{}", p[0]);
    let p = problems(
        "dataset:\n  - fides_key: shop\n    collections:\n      - name: \"confidential\"\n        fields: 7\n",
    );
    assert!(!p[0].message.contains("confidential"), "{}", p[0]);
}
