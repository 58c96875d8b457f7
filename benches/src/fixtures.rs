//! Policies and fictional people for the benchmarks.
//!
//! Everything is invented and deterministic: names are drawn from short lists of
//! given names and made-up surnames, e-mail addresses use `example.org`, phone
//! numbers the `555-01xx` range reserved for fiction. The same `(seed, i)` always
//! gives the same person, so a lookup benchmark can compute the address of any
//! subject a store was built with.

use jiff::Timestamp;
use serde_json::{Value, json};
use vow_core::{Caller, ConsentAction, ConsentEvent, ConsentKind, Pii, PurposeId, Role};
use vow_engine::input::{Identifiers, NewConsent, NewField, NewSubject};

/// The small policy of the end-to-end tests.
pub const TEST_POLICY: &str = include_str!("../../crates/vow/tests/it/policy.yaml");
/// The research operator's policy from `examples/` (14 categories, 9 purposes): the one
/// the load benchmarks publish.
pub const RESEARCH_POLICY: &str = include_str!("../../examples/research-operator/policy.yaml");

/// The tenant the load benchmarks create.
pub const TENANT: &str = "bench-research";

/// Fields per generated subject.
pub const FIELDS_PER_SUBJECT: usize = 8;

const GIVEN: &[&str] = &[
    "Ada", "Bram", "Cora", "Dima", "Elin", "Farah", "Gus", "Hana", "Ilse", "Joss", "Kaia", "Lior",
    "Mira", "Nils", "Oona", "Pavel", "Quinn", "Rhea", "Soren", "Tova", "Umar", "Vera", "Wren",
    "Yusuf", "Zara", "Ines", "Theo", "Maren", "Kofi", "Leni", "Rafe", "Sanna",
];
const SURNAME_HEAD: &[&str] = &[
    "Oak", "Fern", "Ash", "Birch", "Cedar", "Elm", "Hazel", "Maple", "Pine", "Rowan", "Willow",
    "Alder", "Heath", "Moss", "Sedge", "Thorn",
];
const SURNAME_TAIL: &[&str] = &[
    "haven", "brook", "field", "ridge", "stead", "wick", "holm", "ford", "mere", "crest", "vale",
    "combe",
];
const GENDERS: &[&str] = &["Woman", "Man", "Non-binary", "Prefer not to say"];
/// Coarse residences of the research panel (mostly Saskatchewan), for breach counts.
const RESIDENCES: &[&str] = &[
    "CA-SK", "CA-SK", "CA-SK", "CA-SK", "CA-AB", "CA-MB", "CA-ON", "CA-QC", "US-CA", "GB",
];

const HEALTH: &[&str] = &[
    "Migraine, several times a month",
    "Seasonal allergies",
    "Type 2 diabetes, managed with diet",
    "No conditions reported",
    "Asthma, mild",
    "Lower back pain after long drives",
];
const ANSWERS: &[&str] = &[
    "Plans solar panels in 2027",
    "Shops for groceries twice a week",
    "Prefers transit over driving in winter",
    "Would pay more for local produce",
    "Reads the news on a phone every morning",
    "Works from home three days a week",
];
const POSTAL_FIRST: &[u8] = b"STRKHG";
const LETTERS: &[u8] = b"ABCEGHJKLMNPRSTVXY";

/// splitmix64: a fast, well-mixed hash of (seed, i) for deterministic choices.
pub fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(list: &[&'a str], h: u64) -> &'a str {
    list[(h % list.len() as u64) as usize]
}

fn letter(h: u64) -> char {
    char::from(LETTERS[(h % LETTERS.len() as u64) as usize])
}

/// A tiny xorshift generator for picking random subjects in the load loops.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(mix(seed, 0x5EED) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform-enough in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The name of subject `i`.
pub fn name(seed: u64, i: u64) -> (String, String) {
    let h = mix(seed, i);
    let given = pick(GIVEN, h).to_string();
    let surname = format!(
        "{}{}",
        pick(SURNAME_HEAD, h >> 8),
        pick(SURNAME_TAIL, h >> 16)
    );
    (given, surname)
}

/// The e-mail address of subject `i` (unique: it carries `i`).
pub fn email(seed: u64, i: u64) -> String {
    let (given, surname) = name(seed, i);
    format!(
        "{}.{}.{i}@example.org",
        given.to_lowercase(),
        surname.to_lowercase()
    )
}

fn field(category: &str, value: Value, purposes: &[&str], source: &str, at: &str) -> NewField {
    NewField {
        category: category.to_string(),
        value: Pii::new(value),
        purposes: purposes.iter().map(|p| (*p).to_string()).collect(),
        source: Some(source.to_string()),
        store: Some("primary".to_string()),
        collected_at: Some(at.to_string()),
        corrects: None,
    }
}

/// Subject `i`: two identifiers (e-mail, external id), a birth date, 8 fields and 2
/// consents, shaped like `examples/research-operator/subjects.jsonl` and valid under
/// [`RESEARCH_POLICY`]. Every subject is an adult, so no parental consent is needed.
pub fn subject(seed: u64, i: u64) -> NewSubject {
    let h = mix(seed, i);
    let (given, surname) = name(seed, i);
    let email = email(seed, i);
    let year = 1950 + (h >> 20) % 55;
    let month = 1 + (h >> 28) % 12;
    let day = 1 + (h >> 32) % 28;
    let birth = format!("{year:04}-{month:02}-{day:02}");
    let phone = format!("+1306555{:04}", 100 + (h >> 36) % 100);
    let postal = format!(
        "{}{}{} {}{}{}",
        char::from(POSTAL_FIRST[((h >> 40) % POSTAL_FIRST.len() as u64) as usize]),
        (h >> 44) % 10,
        letter(h >> 46),
        (h >> 50) % 10,
        letter(h >> 52),
        (h >> 56) % 10
    );
    let signup = "2025-10-31T19:11:00Z";
    let survey = "2025-11-27T09:42:00Z";
    let fields = vec![
        field(
            "user.name",
            json!(format!("{given} {surname}")),
            &[
                "panel_management",
                "research",
                "marketing.email",
                "incentive_payment",
                "legal_compliance",
            ],
            "signup-form",
            signup,
        ),
        field(
            "user.contact.email",
            json!(email.clone()),
            &[
                "panel_management",
                "research",
                "marketing.email",
                "incentive_payment",
            ],
            "signup-form",
            signup,
        ),
        field(
            "user.contact.phone_number",
            json!(phone),
            &["panel_management", "research"],
            "signup-form",
            signup,
        ),
        field(
            "user.contact.address.postal_code",
            json!(postal),
            &[
                "panel_management",
                "research",
                "analytics.aggregate",
                "incentive_payment",
                "legal_compliance",
            ],
            "signup-form",
            signup,
        ),
        field(
            "user.demographic.date_of_birth",
            json!(birth.clone()),
            &["panel_management", "research", "analytics.aggregate"],
            "signup-form",
            signup,
        ),
        field(
            "user.demographic.gender",
            json!(pick(GENDERS, h >> 3)),
            &["panel_management", "research", "analytics.aggregate"],
            "profile-survey",
            signup,
        ),
        field(
            "user.content.survey_response",
            json!(format!(
                "Study BN-2026-{:03}: {}",
                (h >> 5) % 1000,
                pick(ANSWERS, h >> 7)
            )),
            &["research"],
            "study-survey",
            survey,
        ),
        field(
            "user.health_and_medical",
            json!(pick(HEALTH, h >> 11)),
            &["research"],
            "study-survey",
            survey,
        ),
    ];
    debug_assert_eq!(fields.len(), FIELDS_PER_SUBJECT);
    NewSubject {
        identifiers: Identifiers {
            email: Some(Pii::new(email)),
            phone: None,
            external_id: Some(Pii::new(format!("B-{i:08}"))),
        },
        birth_date: Some(Pii::new(birth)),
        fields,
        consents: vec![
            NewConsent {
                purpose: "marketing.email".to_string(),
                action: None,
                kind: Some("implied".to_string()),
                evidence: Some(Pii::new(json!({"channel": "web", "event": "purchase"}))),
                at: Some("2025-10-04T19:11:00Z".to_string()),
                expires_at: None,
                parent: None,
            },
            NewConsent {
                purpose: "research".to_string(),
                action: None,
                kind: Some("express".to_string()),
                evidence: Some(Pii::new(
                    json!({"channel": "web", "shown": "Panel consent notice v3"}),
                )),
                at: Some(signup.to_string()),
                expires_at: None,
                parent: None,
            },
        ],
        residence: Some(pick(RESIDENCES, h >> 44).to_string()),
    }
}

/// Import rows `from..to` (line numbers start at 1).
pub fn rows(seed: u64, from: u64, to: u64) -> Vec<vow_engine::vault::import::Row> {
    (from..to)
        .map(|i| (i as usize + 1, Ok(subject(seed, i))))
        .collect()
}

fn purpose(p: &str) -> PurposeId {
    PurposeId::new(p).unwrap_or_else(|e| panic!("bench purpose {p}: {e}"))
}

fn ts(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("bench timestamp {s}: {e}"))
}

/// When the decision benchmarks ask.
pub fn decision_now() -> Timestamp {
    ts("2026-11-25T12:00:00Z")
}

/// Five consent events: research granted, withdrawn and granted again; implied
/// marketing consent after a purchase, later withdrawn. Research is live, marketing is not.
pub fn consent_events() -> Vec<ConsentEvent> {
    let ev = |p: &str, action, kind, at: &str, expires: Option<&str>| ConsentEvent {
        purpose: purpose(p),
        action,
        kind,
        at: ts(at),
        expires_at: expires.map(ts),
        policy_version: 1,
        parent: None,
    };
    vec![
        ev(
            "marketing.email",
            ConsentAction::Grant,
            ConsentKind::Implied,
            "2025-10-04T19:11:00Z",
            Some("2027-10-04T19:11:00Z"),
        ),
        ev(
            "research",
            ConsentAction::Grant,
            ConsentKind::Express,
            "2025-10-31T19:11:00Z",
            None,
        ),
        ev(
            "research",
            ConsentAction::Withdraw,
            ConsentKind::Express,
            "2026-01-10T08:00:00Z",
            None,
        ),
        ev(
            "research",
            ConsentAction::Grant,
            ConsentKind::Express,
            "2026-02-01T10:30:00Z",
            None,
        ),
        ev(
            "marketing.email",
            ConsentAction::Withdraw,
            ConsentKind::Implied,
            "2026-03-01T16:45:00Z",
            None,
        ),
    ]
}

/// An app key limited to research and e-mail marketing, as a panel application would hold.
pub fn app_caller() -> Caller {
    Caller {
        key_id: "key_0bench".to_string(),
        role: Role::App,
        purposes: Some(vec![purpose("research"), purpose("marketing.email")]),
    }
}

/// A question the decision allows: research on name, e-mail and health (needs consent: live).
pub fn allowed_ask() -> (PurposeId, Vec<vow_core::Category>) {
    (
        purpose("research"),
        ["user.name", "user.contact.email", "user.health_and_medical"]
            .into_iter()
            .map(category)
            .collect(),
    )
}

/// A question the decision refuses for two reasons: e-mail marketing after the
/// withdrawal, asking also for a category the purpose may not use.
pub fn refused_ask() -> (PurposeId, Vec<vow_core::Category>) {
    (
        purpose("marketing.email"),
        ["user.name", "user.contact.email", "user.health_and_medical"]
            .into_iter()
            .map(category)
            .collect(),
    )
}

fn category(c: &str) -> vow_core::Category {
    vow_core::Category::new(c).unwrap_or_else(|e| panic!("bench category {c}: {e}"))
}

/// Parse a bundled policy; the fixtures are known to be valid.
pub fn policy(source: &str) -> vow_core::Policy {
    match vow_policy::parse(source, "bench-policy.yaml") {
        Ok(checked) => checked.policy,
        Err(problems) => panic!("bench policy does not parse: {problems:?}"),
    }
}
