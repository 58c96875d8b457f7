//! The golden table: (policy jurisdictions and promise, residence, request type,
//! received at) → (acknowledgement due, response due, latest extended due, binding),
//! each worked out by hand from RULES.md and the clock rules of docs/rules.md, with
//! the working in a comment. The shipped packs and calendars are used as they are.
//!
//! Reading the working: "+N" counts calendar days after the day of receipt; business
//! days are listed one by one (×: skipped holiday). Every due instant is the end of
//! the due day (23:59:59.999) in the pack's time zone; the policy's promise counts
//! calendar days in UTC. Holidays used: US 2026 — 3 Jul (4 Jul observed), 26 Nov,
//! 25 Dec; US 2027 — 18 Jun, 5 Jul, 24 Dec, 31 Dec (1 Jan 2028 observed); Canada 2026
//! — 3 Apr, 18 May, 12 Oct, 25 Dec, 28 Dec (Boxing Day observed); UK 2026 — 6 Apr,
//! 28 Dec; UK 2027 — 27 and 28 Dec; UK 2028 — 3 Jan, 1 May. DST: US 8 Mar – 1 Nov 2026,
//! 14 Mar – 7 Nov 2027, 12 Mar 2028; EU/UK 29 Mar – 25 Oct 2026, 28 Mar – 31 Oct 2027,
//! 26 Mar 2028.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use jiff::Timestamp;
use vow_core::RequestType::{self, *};
use vow_core::deadline::{ClockKind, Term, add_term};
use vow_core::policy::ResponseTimes;
use vow_policy::RuleBook;
use vow_policy::rules::builtin;

#[derive(Clone, Copy)]
enum Promise {
    None,
    /// examples/research-operator/policy.yaml: 30 days, acknowledgement 10, opt-out 10.
    Research,
    /// A flat promise of this many days for every request (S11: 45).
    Days(u32),
}

struct Row {
    jurisdictions: &'static [&'static str],
    promise: Promise,
    residence: Option<&'static str>,
    request: RequestType,
    received: &'static str,
    ack: Option<&'static str>,
    response: &'static str,
    binding: &'static str,
    extended: Option<&'static str>,
}

#[allow(clippy::too_many_arguments)]
const fn row(
    jurisdictions: &'static [&'static str],
    promise: Promise,
    residence: Option<&'static str>,
    request: RequestType,
    received: &'static str,
    ack: Option<&'static str>,
    response: &'static str,
    binding: &'static str,
    extended: Option<&'static str>,
) -> Row {
    Row {
        jurisdictions,
        promise,
        residence,
        request,
        received,
        ack,
        response,
        binding,
        extended,
    }
}

const N: Promise = Promise::None;
const R: Promise = Promise::Research;
const RESEARCH: &[&str] = &["CA", "CA-QC", "US-CA"];

const ROWS: &[Row] = &[
    // ---- California (CCPA) -----------------------------------------------------
    // 1. Ack 10 business days from Fri 20 Nov 2026: 23,24,25,(26× Thanksgiving),27,
    //    30, 1,2,3,4, 7 Dec. Response 45 days: +10 30 Nov, +41 31 Dec, +45 4 Jan 2027.
    //    Extension +45: +72 31 Jan, +90 18 Feb 2027.
    row(
        &["US-CA"],
        N,
        Some("US-CA"),
        Know,
        "2026-11-20T10:00:00-08:00",
        Some("2026-12-07T23:59:59.999-08:00"),
        "2027-01-04T23:59:59.999-08:00",
        "US-CA",
        Some("2027-02-18T23:59:59.999-08:00"),
    ),
    // 2. Fri 18 Dec 2026. Ack: 21,22,23,24,(25×),28,29,30,31,(1 Jan×),4,5 Jan → 5 Jan.
    //    45 days: +13 31 Dec, +44 31 Jan, +45 1 Feb. 90 days: +72 28 Feb, +90 18 Mar
    //    2027 (PDT since 14 Mar).
    row(
        &["US-CA"],
        N,
        Some("US-CA"),
        Delete,
        "2026-12-18T16:00:00-08:00",
        Some("2027-01-05T23:59:59.999-08:00"),
        "2027-02-01T23:59:59.999-08:00",
        "US-CA",
        Some("2027-03-18T23:59:59.999-07:00"),
    ),
    // 3. 23:30 PDT on Tue 30 Jun 2026 is 06:30 UTC on 1 Jul: counted from 30 Jun.
    //    Ack: 1,2,(3× Independence Day observed),6,7,8,9,10,13,14,15 Jul.
    //    45 days: +31 31 Jul, +45 14 Aug. 90 days: +62 31 Aug, +90 28 Sep.
    row(
        &["US-CA"],
        N,
        Some("US-CA"),
        Correct,
        "2026-06-30T23:30:00-07:00",
        Some("2026-07-15T23:59:59.999-07:00"),
        "2026-08-14T23:59:59.999-07:00",
        "US-CA",
        Some("2026-09-28T23:59:59.999-07:00"),
    ),
    // 4. Specific pieces, Fri 26 Feb 2027. Ack: 1,2,3,4,5,8,9,10,11,12 Mar (PST).
    //    45 days: +2 28 Feb, +33 31 Mar, +45 12 Apr (PDT). 90: +63 30 Apr, +90 27 May.
    row(
        &["US-CA"],
        N,
        Some("US-CA"),
        Access,
        "2027-02-26T09:00:00-08:00",
        Some("2027-03-12T23:59:59.999-08:00"),
        "2027-04-12T23:59:59.999-07:00",
        "US-CA",
        Some("2027-05-27T23:59:59.999-07:00"),
    ),
    // 5. Leap year: Mon 31 Jan 2028. Ack: 1,2,3,4,7,8,9,10,11,14 Feb. 45 days: +29
    //    29 Feb, +45 16 Mar (PDT since 12 Mar). 90: +60 31 Mar, +90 30 Apr.
    row(
        &["US-CA"],
        N,
        Some("US-CA"),
        Know,
        "2028-01-31T12:00:00-08:00",
        Some("2028-02-14T23:59:59.999-08:00"),
        "2028-03-16T23:59:59.999-07:00",
        "US-CA",
        Some("2028-04-30T23:59:59.999-07:00"),
    ),
    // 6. Limit sensitive PI, received Sat 21 Nov 2026: 15 business days, Monday is the
    //    first: 23,24,25,(26×),27,30, 1,2,3,4, 7,8,9,10,11, 14 Dec. No ack, no extension.
    row(
        &["US-CA"],
        N,
        Some("US-CA"),
        LimitSensitive,
        "2026-11-21T09:00:00-08:00",
        None,
        "2026-12-14T23:59:59.999-08:00",
        "US-CA",
        None,
    ),
    // 7. Opt-out, same Saturday: CCPA 15 business days (14 Dec PT) vs CAN-SPAM, which
    //    a US-CA policy switches on: 10 business days 23,24,25,(26×),27,30,1,2,3,4,7 →
    //    7 Dec ET. CAN-SPAM wins; neither has an extension.
    row(
        &["US-CA"],
        N,
        Some("US-CA"),
        Unsubscribe,
        "2026-11-21T09:00:00-08:00",
        None,
        "2026-12-07T23:59:59.999-05:00",
        "US-CANSPAM",
        None,
    ),
    // 8. A policy listing "US" covers the California pack. Portability = specific
    //    pieces. Sun 1 Nov 2026 01:30 PST (after fall-back). Ack: 2,3,4,5,6,9,10,
    //    (11× Veterans Day),12,13,16 Nov. 45 days: +29 30 Nov, +45 16 Dec. 90: +60
    //    31 Dec, +90 30 Jan 2027.
    row(
        &["US"],
        N,
        Some("US-CA"),
        Portability,
        "2026-11-01T01:30:00-08:00",
        Some("2026-11-16T23:59:59.999-08:00"),
        "2026-12-16T23:59:59.999-08:00",
        "US-CA",
        Some("2027-01-30T23:59:59.999-08:00"),
    ),
    // ---- Canada: PIPEDA, Québec ------------------------------------------------
    // 9. PIPEDA, Fri 30 Jan 2026: 30 days: +1 31 Jan, +29 28 Feb, +30 Sun 1 Mar (no
    //    roll for calendar days). Extension +30: 60 days → 31 Mar (EDT since 8 Mar).
    row(
        &["CA"],
        N,
        Some("CA-ON"),
        Access,
        "2026-01-30T12:00:00-05:00",
        None,
        "2026-03-01T23:59:59.999-05:00",
        "CA",
        Some("2026-03-31T23:59:59.999-04:00"),
    ),
    // 10. PIPEDA, Fri 31 Dec 2027 20:00 ET: 30 days → Sun 30 Jan 2028; 60 days → +30
    //     after 30 Jan is 29 Feb 2028 (leap day).
    row(
        &["CA"],
        N,
        Some("CA-SK"),
        Know,
        "2027-12-31T20:00:00-05:00",
        None,
        "2028-01-30T23:59:59.999-05:00",
        "CA",
        Some("2028-02-29T23:59:59.999-05:00"),
    ),
    // 11. Québec resident, policy CA + CA-QC: PIPEDA and Law 25 both 30 days → 15 Jul
    //     (+15 30 Jun, +30 15 Jul), same instant; the tie goes to the first pack (CA).
    //     Law 25 has no extension, so none is possible.
    row(
        &["CA", "CA-QC"],
        N,
        Some("CA-QC"),
        Access,
        "2026-06-15T09:00:00-04:00",
        None,
        "2026-07-15T23:59:59.999-04:00",
        "CA",
        None,
    ),
    // 12. Québec correction (PIPEDA sets no term for it): Fri 27 Feb 2026 + 30: +1
    //     28 Feb, +30 Sun 29 Mar (EDT).
    row(
        &["CA", "CA-QC"],
        N,
        Some("CA-QC"),
        Correct,
        "2026-02-27T10:00:00-05:00",
        None,
        "2026-03-29T23:59:59.999-04:00",
        "CA-QC",
        None,
    ),
    // 13. Québec portability, Sun 30 Jan 2028: +1 31 Jan, +30 29 Feb 2028.
    row(
        &["CA-QC"],
        N,
        Some("CA-QC"),
        Portability,
        "2028-01-30T11:00:00-05:00",
        None,
        "2028-02-29T23:59:59.999-05:00",
        "CA-QC",
        None,
    ),
    // ---- CASL (Canada, any Canadian jurisdiction in the policy) -------------------
    // 14. Wed 23 Dec 2026: 10 business days (ca): 24,(25×),(28× Boxing Day observed),
    //     29,30,31,(1 Jan×),4,5,6,7,8,11 Jan 2027.
    row(
        &["CA"],
        N,
        Some("CA-SK"),
        Unsubscribe,
        "2026-12-23T14:00:00-05:00",
        None,
        "2027-01-11T23:59:59.999-05:00",
        "CA-CASL",
        None,
    ),
    // 15. Thu 2 Apr 2026: (3× Good Friday), 6 (Easter Monday is not federal),7,8,9,10,
    //     13,14,15,16,17 Apr.
    row(
        &["CA-QC"],
        N,
        Some("CA-QC"),
        Unsubscribe,
        "2026-04-02T10:00:00-04:00",
        None,
        "2026-04-17T23:59:59.999-04:00",
        "CA-CASL",
        None,
    ),
    // 16. Fri 15 May 2026: (18× Victoria Day),19,20,21,22,25,26,27,28,29, 1 Jun.
    row(
        &["CA"],
        N,
        Some("CA-BC"),
        Unsubscribe,
        "2026-05-15T10:00:00-04:00",
        None,
        "2026-06-01T23:59:59.999-04:00",
        "CA-CASL",
        None,
    ),
    // 17. Fri 9 Oct 2026: (12× Thanksgiving),13,14,15,16,19,20,21,22,23,26 Oct.
    row(
        &["CA"],
        N,
        Some("CA-AB"),
        Unsubscribe,
        "2026-10-09T10:00:00-04:00",
        None,
        "2026-10-26T23:59:59.999-04:00",
        "CA-CASL",
        None,
    ),
    // ---- CAN-SPAM --------------------------------------------------------------
    // 18. Policy "US", New York resident (no state pack): Wed 25 Nov 2026 17:00 ET:
    //     (26×),27,30, 1,2,3,4, 7,8,9,10 Dec.
    row(
        &["US"],
        N,
        Some("US-NY"),
        Unsubscribe,
        "2026-11-25T17:00:00-05:00",
        None,
        "2026-12-10T23:59:59.999-05:00",
        "US-CANSPAM",
        None,
    ),
    // 19. Thu 23 Dec 2027: (24× Christmas observed),27,28,29,30,(31× New Year 2028
    //     observed), 3,4,5,6,7,10 Jan 2028.
    row(
        &["US"],
        N,
        Some("US-TX"),
        Unsubscribe,
        "2027-12-23T10:00:00-05:00",
        None,
        "2028-01-10T23:59:59.999-05:00",
        "US-CANSPAM",
        None,
    ),
    // 20. Mon 21 Jun 2027: 22,23,24,25,28,29,30, 1,2,(5× Independence Day observed),
    //     6 Jul.
    row(
        &["US"],
        N,
        Some("US-WA"),
        Unsubscribe,
        "2027-06-21T10:00:00-04:00",
        None,
        "2027-07-06T23:59:59.999-04:00",
        "US-CANSPAM",
        None,
    ),
    // ---- Virginia, Colorado, Connecticut ---------------------------------------
    // 21. VA, Thu 31 Dec 2026: 45 days: +31 31 Jan, +45 Sun 14 Feb 2027. +45: +14
    //     28 Feb, +45 31 Mar (EDT).
    row(
        &["US-VA"],
        N,
        Some("US-VA"),
        Access,
        "2026-12-31T15:00:00-05:00",
        None,
        "2027-02-14T23:59:59.999-05:00",
        "US-VA",
        Some("2027-03-31T23:59:59.999-04:00"),
    ),
    // 22. VA, leap day Tue 29 Feb 2028: +31 31 Mar, +45 14 Apr; +16 30 Apr, +45 29 May.
    row(
        &["US-VA"],
        N,
        Some("US-VA"),
        Correct,
        "2028-02-29T12:00:00-05:00",
        None,
        "2028-04-14T23:59:59.999-04:00",
        "US-VA",
        Some("2028-05-29T23:59:59.999-04:00"),
    ),
    // 23. VA opt-out, Fri 3 Jul 2026 (a federal holiday; the day of receipt does not
    //     count anyway): VA 45 days (17 Aug) vs CAN-SPAM 6,7,8,9,10,13,14,15,16,17 Jul.
    row(
        &["US-VA"],
        N,
        Some("US-VA"),
        Unsubscribe,
        "2026-07-03T10:00:00-04:00",
        None,
        "2026-07-17T23:59:59.999-04:00",
        "US-CANSPAM",
        None,
    ),
    // 24. CO, Sun 14 Mar 2027 01:30 MST (DST starts at 02:00): +17 31 Mar, +45 28 Apr
    //     (MDT). +45: +2 30 Apr, +33 31 May, +45 12 Jun.
    row(
        &["US-CO"],
        N,
        Some("US-CO"),
        Delete,
        "2027-03-14T01:30:00-07:00",
        None,
        "2027-04-28T23:59:59.999-06:00",
        "US-CO",
        Some("2027-06-12T23:59:59.999-06:00"),
    ),
    // 25. CO, Sat 6 Nov 2027 22:00 MDT (DST ends 7 Nov): +24 30 Nov, +45 21 Dec (MST).
    //     +45: +10 31 Dec, +41 31 Jan, +45 4 Feb 2028.
    row(
        &["US-CO"],
        N,
        Some("US-CO"),
        Correct,
        "2027-11-06T22:00:00-06:00",
        None,
        "2027-12-21T23:59:59.999-07:00",
        "US-CO",
        Some("2028-02-04T23:59:59.999-07:00"),
    ),
    // 26. CT, Sat 15 Jan 2028: +16 31 Jan, +45 29 Feb 2028; +31 31 Mar, +45 14 Apr.
    row(
        &["US-CT"],
        N,
        Some("US-CT"),
        Portability,
        "2028-01-15T09:00:00-05:00",
        None,
        "2028-02-29T23:59:59.999-05:00",
        "US-CT",
        Some("2028-04-14T23:59:59.999-04:00"),
    ),
    // 27. CT, Sun 1 Nov 2026 01:30 EDT (the first 01:30, before fall-back): +29 30 Nov,
    //     +45 16 Dec; +15 31 Dec, +45 30 Jan 2027.
    row(
        &["US-CT"],
        N,
        Some("US-CT"),
        Know,
        "2026-11-01T01:30:00-04:00",
        None,
        "2026-12-16T23:59:59.999-05:00",
        "US-CT",
        Some("2027-01-30T23:59:59.999-05:00"),
    ),
    // ---- EU GDPR (calendar months; weekends roll, no EU holiday calendar) -------
    // 28. Sun 31 Jan 2027 + 1 month → 31 Feb → 28 Feb (Sun) → Mon 1 Mar. + 3 months →
    //     31 Apr → Fri 30 Apr (CEST).
    row(
        &["EU"],
        N,
        Some("DE"),
        Access,
        "2027-01-31T10:00:00+01:00",
        None,
        "2027-03-01T23:59:59.999+01:00",
        "EU",
        Some("2027-04-30T23:59:59.999+02:00"),
    ),
    // 29. Mon 31 Jan 2028 + 1 month → Tue 29 Feb 2028; + 3 months → 30 Apr (Sun) →
    //     Mon 1 May (no holiday calendar for the EU).
    row(
        &["EU"],
        N,
        Some("FR"),
        Know,
        "2028-01-31T09:00:00+01:00",
        None,
        "2028-02-29T23:59:59.999+01:00",
        "EU",
        Some("2028-05-01T23:59:59.999+02:00"),
    ),
    // 30. Received on the leap day, Tue 29 Feb 2028: → Wed 29 Mar (CEST since 26 Mar);
    //     → Mon 29 May.
    row(
        &["EU"],
        N,
        Some("IE"),
        Delete,
        "2028-02-29T15:00:00+01:00",
        None,
        "2028-03-29T23:59:59.999+02:00",
        "EU",
        Some("2028-05-29T23:59:59.999+02:00"),
    ),
    // 31. 23:30 UTC on Sat 28 Mar 2026 is 00:30 CET on Sun 29 Mar in Brussels: counted
    //     from 29 Mar → Wed 29 Apr; → Mon 29 Jun.
    row(
        &["EU"],
        N,
        Some("BE"),
        Correct,
        "2026-03-28T23:30:00Z",
        None,
        "2026-04-29T23:59:59.999+02:00",
        "EU",
        Some("2026-06-29T23:59:59.999+02:00"),
    ),
    // 32. Mon 31 Aug 2026 → 31 Sep → Wed 30 Sep; → Mon 30 Nov (CET).
    row(
        &["EU"],
        N,
        Some("NL"),
        OptOut,
        "2026-08-31T12:00:00+02:00",
        None,
        "2026-09-30T23:59:59.999+02:00",
        "EU",
        Some("2026-11-30T23:59:59.999+01:00"),
    ),
    // 33. Thu 31 Dec 2026 → 31 Jan 2027 (Sun) → Mon 1 Feb; → Wed 31 Mar (CEST).
    row(
        &["EU"],
        N,
        Some("ES"),
        Portability,
        "2026-12-31T10:00:00+01:00",
        None,
        "2027-02-01T23:59:59.999+01:00",
        "EU",
        Some("2027-03-31T23:59:59.999+02:00"),
    ),
    // ---- UK GDPR (calendar months; weekends and bank holidays roll) -------------
    // 34. Sat 28 Nov 2026 → Mon 28 Dec = Boxing Day substitute → Tue 29 Dec. + 3
    //     months → 28 Feb 2027 (Sun) → Mon 1 Mar.
    row(
        &["UK"],
        N,
        Some("GB"),
        Access,
        "2026-11-28T11:00:00Z",
        None,
        "2026-12-29T23:59:59.999Z",
        "UK",
        Some("2027-03-01T23:59:59.999Z"),
    ),
    // 35. Thu 25 Nov 2027 → Sat 25 Dec → Sun 26 → Mon 27 and Tue 28 (Christmas and
    //     Boxing Day substitutes) → Wed 29 Dec. + 3 months → Fri 25 Feb 2028.
    row(
        &["UK"],
        N,
        Some("GB-ENG"),
        Delete,
        "2027-11-25T10:00:00Z",
        None,
        "2027-12-29T23:59:59.999Z",
        "UK",
        Some("2028-02-25T23:59:59.999Z"),
    ),
    // 36. Fri 6 Mar 2026 → Mon 6 Apr = Easter Monday → Tue 7 Apr (BST). + 3 months →
    //     6 Jun (Sat) → Mon 8 Jun.
    row(
        &["UK"],
        N,
        Some("UK"),
        Know,
        "2026-03-06T09:00:00Z",
        None,
        "2026-04-07T23:59:59.999+01:00",
        "UK",
        Some("2026-06-08T23:59:59.999+01:00"),
    ),
    // 37. Fri 3 Dec 2027 → Mon 3 Jan 2028 = New Year substitute (1 Jan is a Saturday)
    //     → Tue 4 Jan. + 3 months → Fri 3 Mar 2028.
    row(
        &["GB"],
        N,
        Some("GB"),
        Correct,
        "2027-12-03T12:00:00Z",
        None,
        "2028-01-04T23:59:59.999Z",
        "UK",
        Some("2028-03-03T23:59:59.999Z"),
    ),
    // 38. Sat 31 Oct 2026 (GMT) → 31 Nov → Mon 30 Nov. + 3 months → 31 Jan 2027 (Sun)
    //     → Mon 1 Feb.
    row(
        &["UK"],
        N,
        Some("GB"),
        Portability,
        "2026-10-31T10:00:00Z",
        None,
        "2026-11-30T23:59:59.999Z",
        "UK",
        Some("2027-02-01T23:59:59.999Z"),
    ),
    // 39. 23:30 BST on Tue 31 Mar 2026 (22:30 UTC): → 31 Apr → Thu 30 Apr; → Tue 30 Jun.
    row(
        &["UK"],
        N,
        Some("GB"),
        Access,
        "2026-03-31T23:30:00+01:00",
        None,
        "2026-04-30T23:59:59.999+01:00",
        "UK",
        Some("2026-06-30T23:59:59.999+01:00"),
    ),
    // 40. Sat 29 Jan 2028 → Tue 29 Feb 2028. + 3 months → 29 Apr (Sat) → Sun 30 →
    //     Mon 1 May (Early May bank holiday) → Tue 2 May.
    row(
        &["UK"],
        N,
        Some("GB"),
        Access,
        "2028-01-29T10:00:00Z",
        None,
        "2028-02-29T23:59:59.999Z",
        "UK",
        Some("2028-05-02T23:59:59.999+01:00"),
    ),
    // 41. Opt-out (objection), Scottish resident, Thu 24 Dec 2026 → 24 Jan 2027 (Sun)
    //     → Mon 25 Jan; → Wed 24 Mar 2027 (GMT).
    row(
        &["UK"],
        N,
        Some("GB-SCT"),
        OptOut,
        "2026-12-24T12:00:00Z",
        None,
        "2027-01-25T23:59:59.999Z",
        "UK",
        Some("2027-03-24T23:59:59.999Z"),
    ),
    // ---- Brazil (LGPD) ---------------------------------------------------------
    // 42. Fri 13 Feb 2026 + 15 days → Sat 28 Feb (no roll). No extension.
    row(
        &["BR"],
        N,
        Some("BR"),
        Access,
        "2026-02-13T18:00:00-03:00",
        None,
        "2026-02-28T23:59:59.999-03:00",
        "BR",
        None,
    ),
    // 43. 22:30 BRT Mon 14 Feb 2028 (01:30 UTC on the 15th): counted from 14 Feb,
    //     + 15 → 29 Feb 2028.
    row(
        &["BR"],
        N,
        Some("BR"),
        Know,
        "2028-02-14T22:30:00-03:00",
        None,
        "2028-02-29T23:59:59.999-03:00",
        "BR",
        None,
    ),
    // ---- Strictest wins across laws (no residence declared) ---------------------
    // 44. EU + BR: LGPD 15 days → Sat 28 Feb BRT; GDPR → Fri 13 Mar. LGPD binds and,
    //     having no extension, caps the extension at its own date: none possible.
    row(
        &["EU", "BR"],
        N,
        None,
        Access,
        "2026-02-13T18:00:00-03:00",
        None,
        "2026-02-28T23:59:59.999-03:00",
        "BR",
        None,
    ),
    // 45. US-CA + UK, Sat 28 Nov 2026 11:00 UTC (03:00 PT): UK → Tue 29 Dec (row 34)
    //     binds over CCPA (+2 30 Nov, +33 31 Dec, +45 12 Jan 2027). Ack (CCPA only):
    //     30 Nov, 1,2,3,4,7,8,9,10,11 Dec. Extension: min(CCPA +90 → +64 31 Jan,
    //     +90 26 Feb PT; UK 3 months → 1 Mar) = 26 Feb PT.
    row(
        &["US-CA", "UK"],
        N,
        None,
        Know,
        "2026-11-28T11:00:00Z",
        Some("2026-12-11T23:59:59.999-08:00"),
        "2026-12-29T23:59:59.999Z",
        "UK",
        Some("2027-02-26T23:59:59.999-08:00"),
    ),
    // 46. EU with a 45-day promise (profile S, S11), Sun 31 Jan 2027 10:00 CET (09:00
    //     UTC): GDPR → Mon 1 Mar binds; the promise (+28 28 Feb, +45 17 Mar UTC) does
    //     not, but caps the extension (GDPR alone: 30 Apr).
    row(
        &["EU"],
        Promise::Days(45),
        Some("DE"),
        Access,
        "2027-01-31T10:00:00+01:00",
        None,
        "2027-03-01T23:59:59.999+01:00",
        "EU",
        Some("2027-03-17T23:59:59.999Z"),
    ),
    // 47. Nothing applies (no jurisdictions, no promise): 30 days UTC, binding default:
    //     Sat 31 Jan 2026 +28 28 Feb, +30 2 Mar.
    row(
        &[],
        N,
        None,
        Access,
        "2026-01-31T12:00:00Z",
        None,
        "2026-03-02T23:59:59.999Z",
        "default",
        None,
    ),
    // ---- The research operator's policy (30-day promise, ack 10, opt-out 10) ----
    // 48. California resident, know, Fri 20 Nov 2026 10:00 PT (18:00 UTC): promise
    //     +30 → 20 Dec UTC beats CCPA 4 Jan; ack: promise +10 → 30 Nov UTC beats
    //     CCPA 7 Dec. The promise binds: no extension.
    row(
        RESEARCH,
        R,
        Some("US-CA"),
        Know,
        "2026-11-20T10:00:00-08:00",
        Some("2026-11-30T23:59:59.999Z"),
        "2026-12-20T23:59:59.999Z",
        "policy",
        None,
    ),
    // 49. Saskatchewan resident, access, Fri 30 Jan 2026 12:00 CST (18:00 UTC):
    //     promise → Sun 1 Mar end UTC; PIPEDA → 1 Mar end ET (05:00 UTC on 2 Mar).
    //     Ack +10 → 9 Feb UTC.
    row(
        RESEARCH,
        R,
        Some("CA-SK"),
        Access,
        "2026-01-30T12:00:00-06:00",
        Some("2026-02-09T23:59:59.999Z"),
        "2026-03-01T23:59:59.999Z",
        "policy",
        None,
    ),
    // 50. Québec resident, correct, Fri 27 Feb 2026 10:00 ET (15:00 UTC): promise
    //     → 29 Mar UTC, before Law 25's 29 Mar ET; ack +10 → 9 Mar UTC.
    row(
        RESEARCH,
        R,
        Some("CA-QC"),
        Correct,
        "2026-02-27T10:00:00-05:00",
        Some("2026-03-09T23:59:59.999Z"),
        "2026-03-29T23:59:59.999Z",
        "policy",
        None,
    ),
    // 51. Saskatchewan resident, unsubscribe, Wed 23 Dec 2026 14:00 ET (19:00 UTC):
    //     opt_out_days 10 → Sat 2 Jan 2027 UTC beats CASL (11 Jan); the 10-day ack
    //     falls on the same day.
    row(
        RESEARCH,
        R,
        Some("CA-SK"),
        Unsubscribe,
        "2026-12-23T14:00:00-05:00",
        Some("2027-01-02T23:59:59.999Z"),
        "2027-01-02T23:59:59.999Z",
        "policy",
        None,
    ),
    // 52. No residence declared: CCPA, PIPEDA and Law 25 all apply to know; the promise
    //     (20 Dec UTC) still binds; PIPEDA's 20 Dec ET is 05:00 UTC on the 21st.
    row(
        RESEARCH,
        R,
        None,
        Know,
        "2026-11-20T10:00:00-08:00",
        Some("2026-11-30T23:59:59.999Z"),
        "2026-12-20T23:59:59.999Z",
        "policy",
        None,
    ),
    // 53. A French resident: no listed pack covers France; the promise alone applies.
    //     Fri 1 May 2026 → +10 11 May, +30 31 May.
    row(
        RESEARCH,
        R,
        Some("FR"),
        Access,
        "2026-05-01T12:00:00Z",
        Some("2026-05-11T23:59:59.999Z"),
        "2026-05-31T23:59:59.999Z",
        "policy",
        None,
    ),
];

fn promise(p: Promise, research: &ResponseTimes) -> ResponseTimes {
    match p {
        Promise::None => ResponseTimes::default(),
        Promise::Research => research.clone(),
        Promise::Days(d) => ResponseTimes {
            requests_days: Some(d),
            ..ResponseTimes::default()
        },
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
}

fn research_policy() -> vow_core::Policy {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/research-operator/policy.yaml"
    );
    let src = std::fs::read_to_string(path).unwrap();
    match vow_policy::parse(&src, "policy.yaml") {
        Ok(c) => c.policy,
        Err(d) => panic!("{d:?}"),
    }
}

fn check(book: &RuleBook, research: &vow_core::Policy, i: usize, r: &Row) -> Vec<String> {
    let mut policy = research.clone();
    policy.jurisdictions = r.jurisdictions.iter().map(|s| s.to_string()).collect();
    policy.response_times = promise(r.promise, &research.response_times);
    let d = book.due_dates(&policy, r.residence, r.request, ts(r.received));
    let mut errs = Vec::new();
    let row = i + 1;
    if d.acknowledgement != r.ack.map(ts) {
        errs.push(format!(
            "row {row}: ack {:?}, expected {:?}",
            d.acknowledgement, r.ack
        ));
    }
    if d.response != ts(r.response) {
        errs.push(format!(
            "row {row}: response {} (binding {}), expected {}",
            d.response, d.binding, r.response
        ));
    }
    if d.binding != r.binding {
        errs.push(format!(
            "row {row}: binding {}, expected {}",
            d.binding, r.binding
        ));
    }
    if d.extended_max != r.extended.map(ts) {
        errs.push(format!(
            "row {row}: extended {:?}, expected {:?}",
            d.extended_max, r.extended
        ));
    }
    errs
}

#[test]
fn golden_table() {
    assert!(ROWS.len() >= 40);
    let book = builtin();
    let research = research_policy();
    assert_eq!(research.jurisdictions, RESEARCH);
    let errs: Vec<String> = ROWS
        .iter()
        .enumerate()
        .flat_map(|(i, r)| check(&book, &research, i, r))
        .collect();
    assert!(errs.is_empty(), "\n{}", errs.join("\n"));
}

/// Every shipped pack appears in the table as a binding rule at least once.
#[test]
fn the_table_covers_every_pack() {
    let book = builtin();
    for p in &book.packs {
        assert!(
            ROWS.iter().any(|r| r.binding == p.id),
            "no golden row is bound by {}",
            p.id
        );
    }
}

/// Details the table does not show: notices, applied packs, verification.
#[test]
fn extension_notices_and_what_was_applied() {
    let book = builtin();
    let research = research_policy();
    let mut policy = research.clone();
    policy.response_times = ResponseTimes::default();

    // PIPEDA: the extension notice is due by the first deadline and must state the
    // right to complain.
    policy.jurisdictions = vec!["CA".into()];
    let d = book.due_dates(
        &policy,
        Some("CA-ON"),
        Access,
        ts("2026-01-30T12:00:00-05:00"),
    );
    assert_eq!(d.extension_notice_by, Some(d.response));
    assert!(d.extension_reason_required && d.extension_complaint_statement);
    assert_eq!(d.applied, ["CA"]);

    // CCPA specific pieces: reasonably high certainty, 3 points, a signed declaration,
    // downgraded to a categories request if that cannot be met. Opt-outs: none.
    policy.jurisdictions = vec!["US-CA".into()];
    let d = book.due_dates(
        &policy,
        Some("US-CA"),
        Access,
        ts("2027-02-26T09:00:00-08:00"),
    );
    assert_eq!(d.verification.points, 3);
    assert!(d.verification.signed_declaration);
    assert_eq!(d.verification.downgrade_to, Some(Know));
    assert!(!d.clock_pauses);
    let d = book.due_dates(
        &policy,
        Some("US-CA"),
        OptOut,
        ts("2026-11-21T09:00:00-08:00"),
    );
    // The opt-out of sale or sharing is CCPA's alone; marketing e-mail is CAN-SPAM's.
    assert_eq!(d.applied, ["US-CA"]);
    assert_eq!(
        d.verification.level,
        vow_core::deadline::VerificationLevel::None
    );
    let d = book.due_dates(
        &policy,
        Some("US-CA"),
        Unsubscribe,
        ts("2026-11-21T09:00:00-08:00"),
    );
    assert_eq!(d.applied, ["US-CANSPAM"]);

    // UK: the clock may pause (the dates assume it did not).
    policy.jurisdictions = vec!["UK".into()];
    let d = book.due_dates(&policy, Some("GB"), Access, ts("2026-11-28T11:00:00Z"));
    assert!(d.clock_pauses);
    assert!(!d.extension_complaint_statement);

    // Research operator, no residence: every listed pack with a know rule applies.
    let d = book.due_dates(&research, None, Know, ts("2026-11-20T10:00:00-08:00"));
    assert_eq!(d.applied, ["US-CA", "CA", "CA-QC"]);
}

/// Appeals (VA 60 days [U], CO 45 days [U], CT 60 days [S]), from the appeal's receipt.
#[test]
fn appeals() {
    let book = builtin();
    let at = ts("2026-05-01T10:00:00-04:00");
    let due = |id: &str| {
        let p = book.pack(id).unwrap();
        vow_core::deadline::appeal_due(&[p], &book.calendars, Access, at)
    };
    // +30 31 May, +60 30 Jun.
    assert_eq!(
        due("US-CT"),
        Some((ts("2026-06-30T23:59:59.999-04:00"), "US-CT".into()))
    );
    assert_eq!(
        due("US-VA"),
        Some((ts("2026-06-30T23:59:59.999-04:00"), "US-VA".into()))
    );
    // +30 31 May, +45 15 Jun (MDT).
    assert_eq!(
        due("US-CO"),
        Some((ts("2026-06-15T23:59:59.999-06:00"), "US-CO".into()))
    );
    assert_eq!(due("US-CA"), None);
}

/// Hours (RULES.md EU-11, the GDPR's 72 hours for a breach; breach packs come later):
/// exact, whatever the wall clock does.
#[test]
fn hours() {
    let brussels = jiff::tz::TimeZone::get("Europe/Brussels").unwrap();
    // Sat 28 Mar 2026 10:00 CET + 72 h = Tue 31 Mar 11:00 CEST (the clocks went
    // forward on the 29th: 09:00 UTC + 72 h = 09:00 UTC).
    assert_eq!(
        add_term(
            ts("2026-03-28T10:00:00+01:00"),
            Term::hours(72),
            &brussels,
            None
        ),
        ts("2026-03-31T11:00:00+02:00")
    );
    let ny = jiff::tz::TimeZone::get("America/New_York").unwrap();
    // Sat 31 Oct 2026 12:00 EDT + 72 h = Tue 3 Nov 11:00 EST.
    assert_eq!(
        add_term(ts("2026-10-31T12:00:00-04:00"), Term::hours(72), &ny, None),
        ts("2026-11-03T11:00:00-05:00")
    );
}

/// A change of rule is a data change: a directory that overrides a pack with an
/// hours-based term changes the due date, with no code involved.
#[test]
fn an_override_directory_changes_the_rule() {
    let dir = std::env::temp_dir().join(format!("vow-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../rules/br-lgpd.yaml"
    ))
    .unwrap();
    std::fs::write(
        dir.join("br-lgpd.yaml"),
        shipped.replacen("respond: 15 calendar_days", "respond: 72 hours", 1),
    )
    .unwrap();
    let book = vow_policy::rules::load_dir(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let book = book.unwrap();
    let rule = book.pack("BR").unwrap().rule(Access).unwrap();
    assert_eq!(rule.respond.clock, ClockKind::Hours);
    let mut policy = research_policy();
    policy.jurisdictions = vec!["BR".into()];
    policy.response_times = ResponseTimes::default();
    // Fri 13 Feb 2026 18:00 BRT + 72 h = Mon 16 Feb 18:00 BRT.
    let d = book.due_dates(&policy, Some("BR"), Access, ts("2026-02-13T18:00:00-03:00"));
    assert_eq!(d.response, ts("2026-02-16T18:00:00-03:00"));
    assert_eq!(d.binding, "BR");
    // `know` shares the rule through a YAML alias in the shipped file: changed too.
    let d = book.due_dates(&policy, Some("BR"), Know, ts("2026-02-13T18:00:00-03:00"));
    assert_eq!(d.response, ts("2026-02-16T18:00:00-03:00"));
}
