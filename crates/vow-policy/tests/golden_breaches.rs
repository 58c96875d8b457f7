//! The golden table of breach deadlines: (policy jurisdictions and promise, affected
//! residences, risk, processor or not, encryption, discovered at) → the strictest owed
//! due date per audience and what set it, each worked out by hand from RULES.md (EU-11,
//! EU-12, UK-04, CB-01 to CB-03, PI-04, BR-04) with the shipped packs and calendars.
//!
//! Reading the working: "+N" counts calendar days after the day of discovery; business
//! days are listed one by one (×: skipped). Fixed-day terms end at 23:59:59.999 in the
//! pack's time zone; hours are exact; the policy's promise counts calendar days in UTC.
//! `None` as a due date: owed "without undue delay" / "as soon as feasible" with no
//! number. Brazil holidays used: 21 Apr, 20 Nov, 25 Dec 2026.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use jiff::Timestamp;
use std::collections::BTreeMap;
use vow_core::breach::{Audience, Facts, RiskLevel, duties, strictest};
use vow_core::deadline::applicable;
use vow_policy::rules::builtin;

struct Row {
    jurisdictions: &'static [&'static str],
    promise: Option<u32>,
    residences: &'static [&'static str],
    risk: RiskLevel,
    processor: bool,
    encrypted_keys_safe: bool,
    discovered: &'static str,
    want: &'static [(Audience, Option<&'static str>, &'static str)],
}

use Audience::{Authority as A, Clients as C, Individuals as I};
use RiskLevel::{High, Low, Medium};

const ROWS: &[Row] = &[
    // 1. GDPR: Sat 28 Mar 2026 10:00 CET + 72 h = Tue 31 Mar 11:00 CEST (clocks went
    //    forward on the 29th). High risk: the people too, without undue delay.
    Row {
        jurisdictions: &["EU"],
        promise: None,
        residences: &["DE"],
        risk: High,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-03-28T10:00:00+01:00",
        want: &[(A, Some("2026-03-31T09:00:00Z"), "EU"), (I, None, "EU")],
    },
    // 2. California: Fri 20 Nov 2026 10:00 PST, +30 = Sun 20 Dec (not rolled), end of
    //    day PST = 21 Dec 07:59:59.999Z. The research promise: 30 days from 20 Nov UTC =
    //    end of 20 Dec UTC, earlier: the policy binds. One resident: no AG sample.
    Row {
        jurisdictions: &["US-CA"],
        promise: Some(30),
        residences: &["US-CA"],
        risk: Medium,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-11-20T10:00:00-08:00",
        want: &[(I, Some("2026-12-20T23:59:59.999Z"), "policy")],
    },
    // 3. The same without a promise: California's own date.
    Row {
        jurisdictions: &["US-CA"],
        promise: None,
        residences: &["US-CA"],
        risk: Medium,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-11-20T10:00:00-08:00",
        want: &[(I, Some("2026-12-21T07:59:59.999Z"), "US-CA")],
    },
    // 4. LGPD over a weekend: Fri 13 Nov 2026 17:00 BRT: Mon 16 (1), Tue 17 (2),
    //    Wed 18 (3); end of day BRT (UTC-3).
    Row {
        jurisdictions: &["BR"],
        promise: None,
        residences: &["BR"],
        risk: Medium,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-11-13T17:00:00-03:00",
        want: &[
            (A, Some("2026-11-19T02:59:59.999Z"), "BR"),
            (I, Some("2026-11-19T02:59:59.999Z"), "BR"),
        ],
    },
    // 5. LGPD over Christmas: Thu 24 Dec 2026: Fri 25 ×, Sat, Sun, Mon 28 (1),
    //    Tue 29 (2), Wed 30 (3).
    Row {
        jurisdictions: &["BR"],
        promise: None,
        residences: &["BR"],
        risk: High,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-12-24T09:00:00-03:00",
        want: &[
            (A, Some("2026-12-31T02:59:59.999Z"), "BR"),
            (I, Some("2026-12-31T02:59:59.999Z"), "BR"),
        ],
    },
    // 6. LGPD over Tiradentes: Mon 20 Apr 2026: Tue 21 ×, Wed 22 (1), Thu 23 (2),
    //    Fri 24 (3). The research promise (30 days) is later: Brazil binds.
    Row {
        jurisdictions: &["BR"],
        promise: Some(30),
        residences: &["BR"],
        risk: Medium,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-04-20T10:00:00-03:00",
        want: &[
            (A, Some("2026-04-25T02:59:59.999Z"), "BR"),
            (I, Some("2026-04-25T02:59:59.999Z"), "BR"),
        ],
    },
    // 7. UK GDPR, medium risk: 72 h to the ICO over Christmas (hours ignore holidays);
    //    the people only at high risk.
    Row {
        jurisdictions: &["UK"],
        promise: None,
        residences: &["GB"],
        risk: Medium,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-12-25T12:00:00Z",
        want: &[(A, Some("2026-12-28T12:00:00Z"), "UK")],
    },
    // 8. PIPEDA: "as soon as feasible" for both; the promise gives the people a date.
    Row {
        jurisdictions: &["CA"],
        promise: Some(30),
        residences: &["CA-SK"],
        risk: Medium,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-06-01T12:00:00Z",
        want: &[
            (A, None, "CA"),
            (I, Some("2026-07-01T23:59:59.999Z"), "policy"),
        ],
    },
    // 9. A processor: only its clients, with no fixed date (California "immediately",
    //    GDPR "without undue delay", the contract "as soon as possible").
    Row {
        jurisdictions: &["US-CA", "EU"],
        promise: Some(30),
        residences: &["US-CA", "FR"],
        risk: High,
        processor: true,
        encrypted_keys_safe: false,
        discovered: "2026-06-01T12:00:00Z",
        want: &[(C, None, "US-CA")],
    },
    // 10. Encrypted, keys safe: low risk; California's safe harbour and Art. 34(3)(a):
    //     nobody is owed a notice.
    Row {
        jurisdictions: &["US-CA", "EU"],
        promise: Some(30),
        residences: &["US-CA", "FR"],
        risk: Low,
        processor: false,
        encrypted_keys_safe: true,
        discovered: "2026-06-01T12:00:00Z",
        want: &[],
    },
    // 11. Unknown residences count for every listed law: GDPR and California both.
    Row {
        jurisdictions: &["US-CA", "EU"],
        promise: None,
        residences: &[""],
        risk: High,
        processor: false,
        encrypted_keys_safe: false,
        discovered: "2026-06-01T12:00:00Z",
        want: &[
            (A, Some("2026-06-04T12:00:00Z"), "EU"),
            (I, Some("2026-07-02T06:59:59.999Z"), "US-CA"),
        ],
    },
];

fn ts(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
}

#[test]
fn golden_breach_table() {
    let book = builtin();
    let mut errs = Vec::new();
    for (i, r) in ROWS.iter().enumerate() {
        let j: Vec<String> = r.jurisdictions.iter().map(|s| s.to_string()).collect();
        let packs = applicable(&book.packs, &j, None);
        let mut residences: BTreeMap<Option<String>, u64> = BTreeMap::new();
        for res in r.residences {
            *residences
                .entry((!res.is_empty()).then(|| res.to_string()))
                .or_default() += 1;
        }
        let facts = Facts {
            discovered: ts(r.discovered),
            residences: &residences,
            risk: r.risk,
            encrypted_keys_safe: r.encrypted_keys_safe,
            processor: r.processor,
            promise_days: r.promise,
        };
        let got = strictest(&duties(&packs, &book.calendars, &facts));
        let want: BTreeMap<Audience, (Option<Timestamp>, String)> = r
            .want
            .iter()
            .map(|(a, due, who)| (*a, (due.map(ts), who.to_string())))
            .collect();
        if got != want {
            errs.push(format!("row {}: got {got:?}, expected {want:?}", i + 1));
        }
    }
    assert!(errs.is_empty(), "\n{}", errs.join("\n"));
}

/// Every shipped breach rule binds at least one row, or is documented as dateless.
#[test]
fn the_table_covers_every_pack_with_a_dated_breach_rule() {
    let book = builtin();
    for p in &book.packs {
        let dated = p
            .breach
            .as_ref()
            .is_some_and(|b| b.notices.values().any(|n| n.within.is_some()));
        if dated {
            assert!(
                ROWS.iter().any(|r| r
                    .want
                    .iter()
                    .any(|(_, due, who)| due.is_some() && *who == p.id)),
                "no golden row is bound by {}",
                p.id
            );
        }
    }
}
