use super::*;
use crate::consent::ConsentAction;
use crate::period::Period;
use crate::policy::*;

fn cat(s: &str) -> Category {
    Category::new(s).unwrap()
}
fn pid(s: &str) -> PurposeId {
    PurposeId::new(s).unwrap()
}

fn policy() -> Policy {
    Policy {
        format: 1,
        organisation: Organisation {
            name: "Test".into(),
            legal_name: None,
            website: None,
            address: None,
        },
        effective_date: "2026-01-01".parse().unwrap(),
        contacts: vec![],
        categories: vec![
            CategoryDef {
                id: cat("user.contact.email"),
                description: "e".into(),
                sensitive: false,
                sources: vec![],
                masking: None,
            },
            CategoryDef {
                id: cat("user.name"),
                description: "n".into(),
                sensitive: false,
                sources: vec![],
                masking: None,
            },
            CategoryDef {
                id: cat("user.health"),
                description: "h".into(),
                sensitive: true,
                sources: vec![],
                masking: None,
            },
        ],
        purposes: vec![
            PurposeDef {
                id: pid("research"),
                description: "r".into(),
                basis: LegalBasis::Consent,
                forbidden: false,
                categories: vec![cat("user.contact"), cat("user.name"), cat("user.health")],
            },
            PurposeDef {
                id: pid("payments"),
                description: "p".into(),
                basis: LegalBasis::Contract,
                forbidden: false,
                categories: vec![cat("user.name")],
            },
            PurposeDef {
                id: pid("sale"),
                description: "s".into(),
                basis: LegalBasis::Consent,
                forbidden: true,
                categories: vec![],
            },
        ],
        retention: vec![],
        recipients: vec![],
        stores: vec![],
        jurisdictions: vec![],
        response_times: ResponseTimes::default(),
        parental_consent_age: Some(16),
        implied_consent: vec![ImpliedConsentRule {
            event: "purchase".into(),
            purposes: vec![pid("research")],
            lasts: Period::parse("2y").unwrap(),
            description: None,
        }],
        consent_since: Default::default(),
    }
}

fn operator() -> Caller {
    Caller {
        key_id: "k1".into(),
        role: Role::Operator,
        purposes: None,
    }
}

fn grant(p: &str, kind: ConsentKind, at: &str) -> ConsentEvent {
    ConsentEvent {
        purpose: pid(p),
        action: ConsentAction::Grant,
        kind,
        at: at.parse().unwrap(),
        expires_at: None,
        policy_version: 1,
        parent: None,
    }
}

const NOW: &str = "2026-11-25T12:00:00Z";

fn run(
    facts: SubjectFacts<'_>,
    caller: &Caller,
    action: Action,
    purpose: &str,
    cats: &[&str],
) -> Decision {
    let p = pid(purpose);
    let cats: Vec<Category> = cats.iter().map(|c| cat(c)).collect();
    decide(
        &policy(),
        &facts,
        caller,
        &Ask {
            action,
            purpose: &p,
            categories: &cats,
        },
        NOW.parse().unwrap(),
    )
}

#[test]
fn consent_basis_needs_a_grant() {
    let none = SubjectFacts {
        birth_date: None,
        consents: &[],
    };
    let d = run(
        none,
        &operator(),
        Action::Read,
        "research",
        &["user.contact.email"],
    );
    assert!(!d.allowed);
    assert!(d.has(ReasonCode::NoConsent));

    let evs = [grant(
        "research",
        ConsentKind::Express,
        "2026-01-01T00:00:00Z",
    )];
    let f = SubjectFacts {
        birth_date: None,
        consents: &evs,
    };
    assert!(
        run(
            f,
            &operator(),
            Action::Read,
            "research",
            &["user.contact.email"]
        )
        .allowed
    );
}

#[test]
fn contract_basis_needs_no_consent_but_category_must_fit() {
    let f = SubjectFacts {
        birth_date: None,
        consents: &[],
    };
    assert!(run(f, &operator(), Action::Read, "payments", &["user.name"]).allowed);
    let d = run(
        f,
        &operator(),
        Action::Read,
        "payments",
        &["user.health", "user.bogus"],
    );
    assert!(d.has(ReasonCode::CategoryNotAllowed));
    assert!(d.has(ReasonCode::CategoryUnknown));
    assert_eq!(d.reasons.len(), 2);
}

#[test]
fn every_reason_is_reported() {
    let app = Caller {
        key_id: "k".into(),
        role: Role::App,
        purposes: Some(vec![pid("research")]),
    };
    let f = SubjectFacts {
        birth_date: None,
        consents: &[],
    };
    let d = run(f, &app, Action::Read, "sale", &["user.name"]);
    assert!(d.has(ReasonCode::PurposeForbidden));
    assert!(d.has(ReasonCode::CallerPurposeNotAllowed));
    assert!(d.has(ReasonCode::CategoryNotAllowed));
    assert!(d.has(ReasonCode::NoConsent));
}

#[test]
fn withdrawn_and_expired() {
    let mut w = grant("research", ConsentKind::Express, "2026-02-01T00:00:00Z");
    w.action = ConsentAction::Withdraw;
    let evs = [
        grant("research", ConsentKind::Express, "2026-01-01T00:00:00Z"),
        w,
    ];
    let f = SubjectFacts {
        birth_date: None,
        consents: &evs,
    };
    assert!(run(f, &operator(), Action::Read, "research", &[]).has(ReasonCode::ConsentWithdrawn));

    let mut g = grant("research", ConsentKind::Implied, "2024-01-01T00:00:00Z");
    g.expires_at = Some("2026-01-01T00:00:00Z".parse().unwrap());
    let evs = [g];
    let f = SubjectFacts {
        birth_date: None,
        consents: &evs,
    };
    assert!(run(f, &operator(), Action::Read, "research", &[]).has(ReasonCode::ConsentExpired));
}

#[test]
fn minors_need_a_parent() {
    let child: Date = "2013-05-01".parse().unwrap();
    let evs = [grant(
        "research",
        ConsentKind::Express,
        "2026-01-01T00:00:00Z",
    )];
    let f = SubjectFacts {
        birth_date: Some(child),
        consents: &evs,
    };
    let d = run(f, &operator(), Action::Collect, "research", &["user.name"]);
    assert!(d.has(ReasonCode::MinorWithoutParentalConsent));
    assert!(
        run(f, &operator(), Action::Read, "payments", &["user.name"])
            .has(ReasonCode::MinorWithoutParentalConsent)
    );

    let evs = [grant(
        "research",
        ConsentKind::Parental,
        "2026-01-01T00:00:00Z",
    )];
    let f = SubjectFacts {
        birth_date: Some(child),
        consents: &evs,
    };
    assert!(run(f, &operator(), Action::Collect, "research", &["user.name"]).allowed);
    assert!(run(f, &operator(), Action::Read, "payments", &["user.name"]).allowed);

    // Sixteenth birthday: an adult for this policy.
    let sixteen: Date = "2010-11-25".parse().unwrap();
    let evs = [grant(
        "research",
        ConsentKind::Express,
        "2026-01-01T00:00:00Z",
    )];
    let f = SubjectFacts {
        birth_date: Some(sixteen),
        consents: &evs,
    };
    assert!(run(f, &operator(), Action::Read, "research", &[]).allowed);
}

#[test]
fn roles_gate_actions() {
    let f = SubjectFacts {
        birth_date: None,
        consents: &[],
    };
    for role in [Role::Admin, Role::Auditor, Role::Ingest] {
        let c = Caller {
            key_id: "k".into(),
            role,
            purposes: None,
        };
        assert!(
            run(f, &c, Action::Read, "payments", &["user.name"]).has(ReasonCode::CallerNotAllowed)
        );
    }
    let ingest = Caller {
        key_id: "k".into(),
        role: Role::Ingest,
        purposes: None,
    };
    assert!(run(f, &ingest, Action::Collect, "payments", &["user.name"]).allowed);
}

#[test]
fn age_arithmetic() {
    let b: Date = "2008-02-29".parse().unwrap();
    assert_eq!(age_on(b, "2024-02-28".parse().unwrap()), 15);
    assert_eq!(age_on(b, "2024-02-29".parse().unwrap()), 16);
    assert_eq!(age_on(b, "2025-03-01".parse().unwrap()), 17);
}

#[test]
fn a_consent_older_than_the_purposes_consent_since_does_not_count() {
    let mut p = policy();
    p.consent_since.insert(pid("research"), 2);
    let mut evs = vec![grant(
        "research",
        ConsentKind::Express,
        "2026-01-01T00:00:00Z",
    )];
    let ask = |p: &Policy, evs: &[ConsentEvent], purpose: &str| {
        let purpose = pid(purpose);
        decide(
            p,
            &SubjectFacts {
                birth_date: None,
                consents: evs,
            },
            &operator(),
            &Ask {
                action: Action::Read,
                purpose: &purpose,
                categories: &[cat("user.name")],
            },
            NOW.parse().unwrap(),
        )
    };
    // Given under version 1, before the purpose took its present form in version 2.
    let d = ask(&p, &evs, "research");
    assert!(!d.allowed);
    assert!(d.has(ReasonCode::FreshConsentRequired), "{d:?}");
    assert!(!d.has(ReasonCode::NoConsent));
    // Purposes without a consent_since are untouched.
    assert!(ask(&p, &[], "payments").allowed);
    // Granted again under version 2: it counts.
    let mut again = grant("research", ConsentKind::Express, "2026-06-01T00:00:00Z");
    again.policy_version = 2;
    evs.push(again);
    assert!(ask(&p, &evs, "research").allowed);
    // A later version keeps the requirement; consents under it count as well.
    evs[1].policy_version = 3;
    assert!(ask(&p, &evs, "research").allowed);
    // A withdrawal stays a withdrawal, not a request for fresh consent.
    let mut w = grant("research", ConsentKind::Express, "2026-07-01T00:00:00Z");
    w.action = ConsentAction::Withdraw;
    w.policy_version = 1;
    evs.push(w);
    let d = ask(&p, &evs, "research");
    assert!(d.has(ReasonCode::ConsentWithdrawn));
    assert!(!d.has(ReasonCode::FreshConsentRequired));
}
