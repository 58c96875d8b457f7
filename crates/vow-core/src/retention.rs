//! Retention (R6): when a stored field is due for destruction, and under which rule.
//!
//! Pure: the caller gives the rules, the field's metadata, the person's clock facts and
//! `now`. How rules combine: every rule that *matches* a field (its category covers the
//! field's, or it names none; its purpose is among the field's, or it names none) gives
//! a moment from which the field is no longer needed by that rule. The field is kept as
//! long as any matching rule still needs it, so it is due only when every matching rule
//! is due, and the rule that keeps it longest is the one that decides ("wins"). A rule
//! whose clock has not started (no relationship end recorded, consent not withdrawn)
//! keeps the field indefinitely. A field no rule matches is never due.

use crate::ids::{Category, PurposeId};
use crate::policy::{RetentionClock, RetentionRule};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// What the engine knows about one stored field (never its value).
#[derive(Debug, Clone)]
pub struct FieldFacts<'a> {
    pub category: &'a Category,
    pub purposes: &'a [PurposeId],
    pub collected_at: Timestamp,
}

/// What starts the clocks of one person.
#[derive(Debug, Clone, Default)]
pub struct SubjectClocks {
    /// The latest of: field collection, consent events, purpose-bound reads.
    pub last_activity: Option<Timestamp>,
    /// When the relationship ended (account closed, panel left), if it has.
    pub relationship_end: Option<Timestamp>,
    /// Every purpose with consent events: `Some(at)` when the consent is withdrawn or
    /// expired now (since `at`), `None` while it is in force.
    pub consent_ended: BTreeMap<PurposeId, Option<Timestamp>>,
}

/// The outcome for one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    /// Index in the policy's `retention` list of the rule that decides.
    pub rule: usize,
    /// When the deciding rule lets the field go; None: its clock has not started.
    pub due_at: Option<Timestamp>,
    /// Whether `due_at` has come.
    pub due: bool,
}

/// Whether `rule` governs a field of this category collected for these purposes.
pub fn matches(rule: &RetentionRule, category: &Category, purposes: &[PurposeId]) -> bool {
    rule.category.as_ref().is_none_or(|c| category.is_within(c))
        && rule.purpose.as_ref().is_none_or(|p| purposes.contains(p))
}

/// When the clock of `rule` started for this field, if it has.
pub fn clock_start(
    rule: &RetentionRule,
    field: &FieldFacts<'_>,
    clocks: &SubjectClocks,
) -> Option<Timestamp> {
    match rule.from {
        RetentionClock::Collected => Some(field.collected_at),
        RetentionClock::LastActivity => Some(
            clocks
                .last_activity
                .map_or(field.collected_at, |a| a.max(field.collected_at)),
        ),
        RetentionClock::RelationshipEnd => clocks.relationship_end,
        RetentionClock::ConsentWithdrawn => {
            // The consent the field depends on: the rule's purpose, or else every
            // purpose of the field that rests on consent. All of them must have ended.
            let purposes: Vec<&PurposeId> = match &rule.purpose {
                Some(p) => vec![p],
                None => field
                    .purposes
                    .iter()
                    .filter(|p| clocks.consent_ended.contains_key(*p))
                    .collect(),
            };
            let mut latest: Option<Timestamp> = None;
            for p in purposes.iter() {
                let ended = clocks.consent_ended.get(*p).copied().flatten()?;
                latest = Some(latest.map_or(ended, |l| l.max(ended)));
            }
            latest
        }
    }
}

/// Whether the field is due at `now`, and which rule decides; None when no rule matches.
pub fn assess(
    rules: &[RetentionRule],
    field: &FieldFacts<'_>,
    clocks: &SubjectClocks,
    now: Timestamp,
) -> Option<Assessment> {
    let mut winner: Option<Assessment> = None;
    for (i, rule) in rules.iter().enumerate() {
        if !matches(rule, field.category, field.purposes) {
            continue;
        }
        let due_at = clock_start(rule, field, clocks).map(|s| rule.keep.after(s));
        let this = Assessment {
            rule: i,
            due_at,
            due: due_at.is_some_and(|d| d <= now),
        };
        winner = Some(match winner {
            None => this,
            // A clock not started keeps the field longest; among started ones the
            // latest due date wins; on a tie, the rule listed first.
            Some(w) => match (w.due_at, due_at) {
                (None, _) => w,
                (Some(_), None) => this,
                (Some(a), Some(b)) if b > a => this,
                _ => w,
            },
        });
    }
    winner
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Period;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn rule(
        cat: Option<&str>,
        purpose: Option<&str>,
        keep: &str,
        from: RetentionClock,
    ) -> RetentionRule {
        RetentionRule {
            category: cat.map(|c| Category::new(c).unwrap()),
            purpose: purpose.map(|p| PurposeId::new(p).unwrap()),
            keep: Period::parse(keep).unwrap(),
            from,
            reason: None,
        }
    }

    #[test]
    fn collected_clock_and_descendants() {
        let rules = [rule(
            Some("user.contact"),
            None,
            "1y",
            RetentionClock::Collected,
        )];
        let cat = Category::new("user.contact.email").unwrap();
        let purposes = [PurposeId::new("research").unwrap()];
        let f = FieldFacts {
            category: &cat,
            purposes: &purposes,
            collected_at: ts("2025-01-10T00:00:00Z"),
        };
        let c = SubjectClocks::default();
        let a = assess(&rules, &f, &c, ts("2026-01-09T00:00:00Z")).unwrap();
        assert!(!a.due);
        assert_eq!(a.due_at, Some(ts("2026-01-10T00:00:00Z")));
        assert!(
            assess(&rules, &f, &c, ts("2026-01-10T00:00:00Z"))
                .unwrap()
                .due
        );
        let other = Category::new("user.name").unwrap();
        let g = FieldFacts {
            category: &other,
            ..f.clone()
        };
        assert_eq!(assess(&rules, &g, &c, ts("2030-01-01T00:00:00Z")), None);
    }

    #[test]
    fn longest_keep_wins_and_unstarted_clock_keeps() {
        let rules = [
            rule(
                Some("user.financial"),
                Some("incentive_payment"),
                "1y",
                RetentionClock::Collected,
            ),
            rule(
                Some("user.financial"),
                Some("legal_compliance"),
                "7y",
                RetentionClock::Collected,
            ),
            rule(None, None, "30d", RetentionClock::RelationshipEnd),
        ];
        let cat = Category::new("user.financial.bank_account").unwrap();
        let purposes = [
            PurposeId::new("incentive_payment").unwrap(),
            PurposeId::new("legal_compliance").unwrap(),
        ];
        let f = FieldFacts {
            category: &cat,
            purposes: &purposes,
            collected_at: ts("2020-01-01T00:00:00Z"),
        };
        let mut c = SubjectClocks::default();
        let now = ts("2030-01-01T00:00:00Z");
        let a = assess(&rules, &f, &c, now).unwrap();
        assert_eq!((a.rule, a.due_at, a.due), (2, None, false));
        c.relationship_end = Some(ts("2021-01-01T00:00:00Z"));
        let a = assess(&rules, &f, &c, now).unwrap();
        assert_eq!(a.rule, 1);
        assert!(a.due);
        let a = assess(&rules, &f, &c, ts("2026-06-01T00:00:00Z")).unwrap();
        assert_eq!((a.rule, a.due), (1, false));
    }

    #[test]
    fn consent_withdrawn_needs_every_consent_ended() {
        let rules = [rule(None, None, "30d", RetentionClock::ConsentWithdrawn)];
        let cat = Category::new("user.contact.email").unwrap();
        let m = PurposeId::new("marketing.email").unwrap();
        let r = PurposeId::new("research").unwrap();
        let purposes = [m.clone(), r.clone()];
        let f = FieldFacts {
            category: &cat,
            purposes: &purposes,
            collected_at: ts("2025-01-01T00:00:00Z"),
        };
        let mut c = SubjectClocks::default();
        let now = ts("2026-01-01T00:00:00Z");
        // No consent-based purpose: the clock never starts.
        assert!(!assess(&rules, &f, &c, now).unwrap().due);
        c.consent_ended
            .insert(m.clone(), Some(ts("2025-06-01T00:00:00Z")));
        c.consent_ended.insert(r.clone(), None);
        assert!(!assess(&rules, &f, &c, now).unwrap().due);
        c.consent_ended.insert(r, Some(ts("2025-11-01T00:00:00Z")));
        let a = assess(&rules, &f, &c, now).unwrap();
        assert_eq!(a.due_at, Some(ts("2025-12-01T00:00:00Z")));
        assert!(a.due);
        // A rule naming its purpose looks at that consent alone.
        let named = [rule(
            None,
            Some("marketing.email"),
            "30d",
            RetentionClock::ConsentWithdrawn,
        )];
        assert_eq!(
            assess(&named, &f, &c, now).unwrap().due_at,
            Some(ts("2025-07-01T00:00:00Z"))
        );
    }

    #[test]
    fn last_activity_is_never_before_collection() {
        let rules = [rule(None, None, "1y", RetentionClock::LastActivity)];
        let cat = Category::new("user.name").unwrap();
        let f = FieldFacts {
            category: &cat,
            purposes: &[],
            collected_at: ts("2025-01-01T00:00:00Z"),
        };
        let mut c = SubjectClocks {
            last_activity: Some(ts("2024-01-01T00:00:00Z")),
            ..SubjectClocks::default()
        };
        assert_eq!(
            assess(&rules, &f, &c, ts("2025-06-01T00:00:00Z"))
                .unwrap()
                .due_at,
            Some(ts("2026-01-01T00:00:00Z"))
        );
        c.last_activity = Some(ts("2025-05-01T00:00:00Z"));
        assert_eq!(
            assess(&rules, &f, &c, ts("2025-06-01T00:00:00Z"))
                .unwrap()
                .due_at,
            Some(ts("2026-05-01T00:00:00Z"))
        );
    }

    fn arb_rule() -> impl Strategy<Value = RetentionRule> {
        (
            prop::option::of(prop::sample::select(vec![
                "user",
                "user.contact",
                "user.contact.email",
                "user.name",
            ])),
            prop::option::of(prop::sample::select(vec!["research", "marketing.email"])),
            1u32..1000,
            0usize..4,
        )
            .prop_map(|(c, p, days, clock)| RetentionRule {
                category: c.map(|c| Category::new(c).unwrap()),
                purpose: p.map(|p| PurposeId::new(p).unwrap()),
                keep: Period::days(days),
                from: [
                    RetentionClock::Collected,
                    RetentionClock::LastActivity,
                    RetentionClock::ConsentWithdrawn,
                    RetentionClock::RelationshipEnd,
                ][clock],
                reason: None,
            })
    }

    fn arb_clocks() -> impl Strategy<Value = SubjectClocks> {
        (
            prop::option::of(0i64..2_000_000_000_000),
            prop::option::of(0i64..2_000_000_000_000),
            prop::option::of(prop::option::of(0i64..2_000_000_000_000)),
            prop::option::of(prop::option::of(0i64..2_000_000_000_000)),
        )
            .prop_map(|(a, e, m, r)| {
                let t = |x: i64| Timestamp::from_millisecond(x).unwrap();
                let mut consent_ended = BTreeMap::new();
                if let Some(m) = m {
                    consent_ended.insert(PurposeId::new("marketing.email").unwrap(), m.map(t));
                }
                if let Some(r) = r {
                    consent_ended.insert(PurposeId::new("research").unwrap(), r.map(t));
                }
                SubjectClocks {
                    last_activity: a.map(t),
                    relationship_end: e.map(t),
                    consent_ended,
                }
            })
    }

    proptest! {
        /// Due exactly when every matching rule is due; the winner is one of them and
        /// no matching rule lets the field go later than the winner.
        #[test]
        fn due_iff_every_matching_rule_is_due(
            rules in prop::collection::vec(arb_rule(), 0..6),
            clocks in arb_clocks(),
            collected in 0i64..2_000_000_000_000,
            now in 0i64..2_100_000_000_000,
            cat in prop::sample::select(vec!["user.contact.email", "user.name", "user.financial"]),
            purposes in prop::sample::subsequence(vec!["research", "marketing.email"], 0..=2),
        ) {
            let cat = Category::new(cat).unwrap();
            let purposes: Vec<PurposeId> = purposes.into_iter().map(|p| PurposeId::new(p).unwrap()).collect();
            let f = FieldFacts { category: &cat, purposes: &purposes, collected_at: Timestamp::from_millisecond(collected).unwrap() };
            let now = Timestamp::from_millisecond(now).unwrap();
            let matching: Vec<(usize, Option<Timestamp>)> = rules
                .iter()
                .enumerate()
                .filter(|(_, r)| matches(r, &cat, &purposes))
                .map(|(i, r)| (i, clock_start(r, &f, &clocks).map(|s| r.keep.after(s))))
                .collect();
            match assess(&rules, &f, &clocks, now) {
                None => prop_assert!(matching.is_empty()),
                Some(a) => {
                    let every_due = matching.iter().all(|(_, d)| d.is_some_and(|d| d <= now));
                    prop_assert_eq!(a.due, every_due);
                    prop_assert!(matching.iter().any(|(i, d)| *i == a.rule && *d == a.due_at));
                    for (_, d) in &matching {
                        match (a.due_at, d) {
                            (None, _) => {}
                            (Some(_), None) => prop_assert!(false, "an unstarted clock must win"),
                            (Some(w), Some(d)) => prop_assert!(*d <= w),
                        }
                    }
                }
            }
        }

        /// Time only moves a field towards being due: once due, due forever after.
        #[test]
        fn once_due_stays_due(
            rules in prop::collection::vec(arb_rule(), 1..6),
            clocks in arb_clocks(),
            collected in 0i64..2_000_000_000_000,
            now in 0i64..2_100_000_000_000,
            later in 0i64..1_000_000_000_000,
        ) {
            let cat = Category::new("user.contact.email").unwrap();
            let purposes = vec![PurposeId::new("research").unwrap()];
            let f = FieldFacts { category: &cat, purposes: &purposes, collected_at: Timestamp::from_millisecond(collected).unwrap() };
            let t0 = Timestamp::from_millisecond(now).unwrap();
            let t1 = Timestamp::from_millisecond(now + later).unwrap();
            if let Some(a) = assess(&rules, &f, &clocks, t0) && a.due {
                prop_assert!(assess(&rules, &f, &clocks, t1).unwrap().due);
            }
        }
    }
}
