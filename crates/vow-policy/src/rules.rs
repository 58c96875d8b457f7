//! Rule packs and holiday calendars as data: the shipped files, loading a directory
//! of overrides, and checking them with positioned diagnostics.
//!
//! The files live in `rules/*.yaml` (one pack per jurisdiction) and
//! `rules/calendars/*.yaml`; they are compiled in ([`builtin`]). A deployment may
//! add or replace packs and calendars with [`load_dir`]: a pack or calendar with the
//! id of a built-in one replaces it, others are added. A new pack or a change of rule
//! is a data change. The format is documented in `docs/rules.md`; the arithmetic in
//! [`vow_core::deadline`].

use crate::diagnostic::Diagnostic;
use crate::util::did_you_mean;
use crate::{de, path, yaml};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;
use vow_core::calendar::{Calendar, CalendarSet, HolidayRule};
use vow_core::deadline::{self, DueDates};
use vow_core::jurisdiction::Jurisdiction;
use vow_core::pack::{BreachRules, RequestRule, RulePack};
use vow_core::policy::Policy;
use vow_core::request::RequestType;
use vow_core::term::Term;

/// The shipped packs: (file name, text).
const BUILTIN_PACKS: &[(&str, &str)] = &[
    (
        "rules/us-ca.yaml",
        include_str!("../../../rules/us-ca.yaml"),
    ),
    (
        "rules/eu-gdpr.yaml",
        include_str!("../../../rules/eu-gdpr.yaml"),
    ),
    (
        "rules/uk-gdpr.yaml",
        include_str!("../../../rules/uk-gdpr.yaml"),
    ),
    (
        "rules/ca-pipeda.yaml",
        include_str!("../../../rules/ca-pipeda.yaml"),
    ),
    (
        "rules/ca-qc.yaml",
        include_str!("../../../rules/ca-qc.yaml"),
    ),
    (
        "rules/us-va.yaml",
        include_str!("../../../rules/us-va.yaml"),
    ),
    (
        "rules/us-co.yaml",
        include_str!("../../../rules/us-co.yaml"),
    ),
    (
        "rules/us-ct.yaml",
        include_str!("../../../rules/us-ct.yaml"),
    ),
    (
        "rules/br-lgpd.yaml",
        include_str!("../../../rules/br-lgpd.yaml"),
    ),
    (
        "rules/ca-casl.yaml",
        include_str!("../../../rules/ca-casl.yaml"),
    ),
    (
        "rules/us-canspam.yaml",
        include_str!("../../../rules/us-canspam.yaml"),
    ),
];

/// The shipped holiday calendars: (file name, text).
const BUILTIN_CALENDARS: &[(&str, &str)] = &[
    (
        "rules/calendars/us.yaml",
        include_str!("../../../rules/calendars/us.yaml"),
    ),
    (
        "rules/calendars/ca.yaml",
        include_str!("../../../rules/calendars/ca.yaml"),
    ),
    (
        "rules/calendars/uk.yaml",
        include_str!("../../../rules/calendars/uk.yaml"),
    ),
    (
        "rules/calendars/br.yaml",
        include_str!("../../../rules/calendars/br.yaml"),
    ),
];

/// Every pack and calendar the engine knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleBook {
    pub packs: Vec<RulePack>,
    pub calendars: CalendarSet,
}

impl RuleBook {
    pub fn pack(&self, id: &str) -> Option<&RulePack> {
        self.packs.iter().find(|p| p.id == id)
    }

    /// The packs that govern a request (see [`vow_core::deadline::applicable`]).
    pub fn applicable(
        &self,
        policy_jurisdictions: &[String],
        residence: Option<&str>,
    ) -> Vec<&RulePack> {
        deadline::applicable(&self.packs, policy_jurisdictions, residence)
    }

    /// The due dates of a request under `policy` (its jurisdictions choose the packs,
    /// its `response_times` are the promise) from a requester resident in
    /// `residence` (None: not declared, every pack the policy lists applies).
    pub fn due_dates(
        &self,
        policy: &Policy,
        residence: Option<&str>,
        request: RequestType,
        received: jiff::Timestamp,
    ) -> DueDates {
        let packs = self.applicable(&policy.jurisdictions, residence);
        deadline::due_dates(
            &packs,
            &self.calendars,
            request,
            received,
            &policy.response_times,
        )
    }

    /// Every problem of the book (unpositioned: for books built in code; files are
    /// checked with positions by [`load_dir`], [`parse_pack`], [`parse_calendar`]).
    pub fn validate(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut ids = HashSet::new();
        for c in self.calendars.iter() {
            out.extend(check_calendar(c));
        }
        for p in &self.packs {
            out.extend(check_pack(p));
            out.extend(check_pack_references(p, &self.calendars));
            if !ids.insert(p.id.as_str()) {
                out.push(duplicate_pack(&p.id));
            }
        }
        out
    }
}

fn duplicate_pack(id: &str) -> Diagnostic {
    Diagnostic::error(
        "duplicate_id",
        "id",
        format!("the pack id `{id}` is used by another pack; each jurisdiction has one pack"),
    )
}

fn duplicate_calendar(id: &str) -> Diagnostic {
    Diagnostic::error(
        "duplicate_id",
        "id",
        format!("the calendar id `{id}` is used by another calendar"),
    )
}

/// A document read and deserialized, with its tree for positioning later problems.
struct Loaded<T> {
    value: T,
    file: String,
    root: yaml::Node,
}

impl<T> Loaded<T> {
    /// Place `diags` (paths into this document) at their lines and columns.
    fn place(&self, mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        for d in &mut diags {
            let pos = path::locate(&self.root, &d.path, d.code == "unknown_key");
            d.line = pos.line;
            d.column = pos.column;
            d.file = self.file.clone();
        }
        diags
    }
}

fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    diags
}

fn read_doc<T: DeserializeOwned>(
    source: &str,
    file: &str,
    what: &str,
) -> Result<Loaded<T>, Vec<Diagnostic>> {
    let at = |mut d: Diagnostic, line: usize, column: usize| {
        d.file = file.to_string();
        d.line = line;
        d.column = column;
        d
    };
    let root = match yaml::read(source) {
        Ok(Some(root)) if !matches!(&root.kind, yaml::Kind::Scalar(s) if s.is_null()) => root,
        Ok(_) => {
            let d = Diagnostic::error(
                "missing_key",
                "",
                format!("the file is empty; expected a {what}"),
            );
            return Err(vec![at(d, 1, 1)]);
        }
        Err(e) => {
            let d = Diagnostic::error(e.code, "", e.message);
            return Err(vec![at(d, e.pos.line, e.pos.column)]);
        }
    };
    match de::from_node::<T>(&root) {
        Ok(value) => Ok(Loaded {
            value,
            file: file.to_string(),
            root,
        }),
        Err(diags) => Err(sorted(
            diags
                .into_iter()
                .map(|mut d| {
                    d.file = file.to_string();
                    d
                })
                .collect(),
        )),
    }
}

/// Read any YAML (or JSON) document into `T`, with problems located by file, line,
/// column and path like a policy's (e.g. an incident description for `vow breach`).
pub fn parse_document<T: DeserializeOwned>(
    source: &str,
    file: &str,
    what: &str,
) -> Result<T, Vec<Diagnostic>> {
    read_doc::<T>(source, file, what).map(|l| l.value)
}

fn load_pack(source: &str, file: &str) -> Result<Loaded<RulePack>, Vec<Diagnostic>> {
    let loaded = read_doc::<RulePack>(source, file, "rule pack")?;
    let diags = loaded.place(check_pack(&loaded.value));
    if diags.iter().any(Diagnostic::is_error) {
        Err(sorted(diags))
    } else {
        Ok(loaded)
    }
}

fn load_calendar(source: &str, file: &str) -> Result<Loaded<Calendar>, Vec<Diagnostic>> {
    let loaded = read_doc::<Calendar>(source, file, "holiday calendar")?;
    let diags = loaded.place(check_calendar(&loaded.value));
    if diags.iter().any(Diagnostic::is_error) {
        Err(sorted(diags))
    } else {
        Ok(loaded)
    }
}

/// Read and check one rule pack (everything but references to calendars, which need
/// the whole book). `file` only labels the diagnostics.
pub fn parse_pack(source: &str, file: &str) -> Result<RulePack, Vec<Diagnostic>> {
    load_pack(source, file).map(|l| l.value)
}

/// Read and check one holiday calendar. `file` only labels the diagnostics.
pub fn parse_calendar(source: &str, file: &str) -> Result<Calendar, Vec<Diagnostic>> {
    load_calendar(source, file).map(|l| l.value)
}

fn check_term(term: Term, at: String, out: &mut Vec<Diagnostic>) {
    if term.amount == 0 {
        out.push(Diagnostic::error(
            "bad_term",
            at,
            format!("the term `{term}` is zero; a legal term is at least 1"),
        ));
    }
}

fn check_rule(pack: &RulePack, rt: RequestType, rule: &RequestRule, out: &mut Vec<Diagnostic>) {
    let base = path::key(&path::key("", "requests"), rt.as_str());
    let at = |k: &str| path::key(&base, k);
    if let Some(t) = rule.acknowledge {
        check_term(t, at("acknowledge"), out);
    }
    check_term(rule.respond, at("respond"), out);
    if let Some(ext) = &rule.extension {
        check_term(ext.add, path::key(&at("extension"), "add"), out);
    }
    if let Some(appeal) = &rule.appeal {
        if let Some(t) = appeal.request_within {
            check_term(t, path::key(&at("appeal"), "request_within"), out);
        }
        check_term(appeal.respond, path::key(&at("appeal"), "respond"), out);
    }
    if rule.submitters.is_empty() {
        out.push(Diagnostic::error(
            "missing_key",
            at("submitters"),
            "say who may submit this request: a list of subject, agent, parent",
        ));
    }
    if let Some(to) = rule.verification.downgrade_to {
        if to == rt {
            out.push(Diagnostic::error(
                "bad_reference",
                path::key(&at("verification"), "downgrade_to"),
                format!("a `{rt}` request cannot be downgraded to itself"),
            ));
        } else if pack.rule(to).is_none() {
            out.push(Diagnostic::error(
                "bad_reference",
                path::key(&at("verification"), "downgrade_to"),
                format!(
                    "downgrades to `{to}`, which this pack has no rule for; add `requests.{to}`"
                ),
            ));
        }
    }
}

/// The checks one pack needs on its own.
fn check_pack(pack: &RulePack) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if Jurisdiction::parse_pack_id(&pack.id).is_err() {
        out.push(Diagnostic::error(
            "bad_code",
            "id",
            format!(
                "`{}` is not a jurisdiction code; write two capital letters, optionally `-` and capitals or digits (e.g. `US-CA`, `EU`, `CA-CASL`)",
                pack.id
            ),
        ));
    }
    for (k, v) in [("name", &pack.name), ("law", &pack.law)] {
        if v.trim().is_empty() {
            out.push(Diagnostic::error(
                "missing_key",
                k,
                format!("`{k}` is empty"),
            ));
        }
    }
    if jiff::tz::TimeZone::get(&pack.timezone).is_err() {
        out.push(Diagnostic::error(
            "unknown_timezone",
            "timezone",
            format!(
                "`{}` is not a known IANA time zone (e.g. America/Los_Angeles, Europe/London)",
                pack.timezone
            ),
        ));
    }
    if pack.scope.is_empty() {
        out.push(Diagnostic::error(
            "missing_key",
            "scope",
            "the scope is empty; list the residence codes the pack covers (e.g. [US-CA])",
        ));
    }
    for (i, s) in pack.scope.iter().enumerate() {
        if Jurisdiction::parse_canonical(s).is_err() {
            out.push(Diagnostic::error(
                "bad_code",
                path::index("scope", i),
                format!("`{s}` is not a residence code (e.g. `US-CA`, `DE`, `EU`)"),
            ));
        }
    }
    if pack.requests.is_empty() {
        out.push(Diagnostic::error(
            "missing_key",
            "requests",
            "the pack has no request rules",
        ));
    }
    for (rt, rule) in &pack.requests {
        check_rule(pack, *rt, rule, &mut out);
    }
    if let Some(b) = &pack.breach {
        check_breach(b, &mut out);
    }
    out
}

/// A pack's `breach:` section: terms above zero, nothing said left empty.
fn check_breach(b: &BreachRules, out: &mut Vec<Diagnostic>) {
    let base = path::key("", "breach");
    let empty =
        |at: String, what: &str| Diagnostic::error("missing_key", at, format!("`{what}` is empty"));
    if b.law.trim().is_empty() {
        out.push(empty(path::key(&base, "law"), "law"));
    }
    if let Some(t) = b.keep_records {
        check_term(t, path::key(&base, "keep_records"), out);
    }
    if b.notices.is_empty() {
        out.push(Diagnostic::error(
            "missing_key",
            path::key(&base, "notices"),
            "name at least one audience: authority, individuals or clients",
        ));
    }
    for (aud, n) in &b.notices {
        let at = path::key(&path::key(&base, "notices"), aud.as_str());
        if let Some(t) = n.within {
            check_term(t, path::key(&at, "within"), out);
        }
        for (k, v) in [("to", &n.to), ("timing", &n.timing)] {
            if v.trim().is_empty() {
                out.push(empty(path::key(&at, k), k));
            }
        }
        if n.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
            out.push(empty(path::key(&at, "title"), "title"));
        }
        for (i, c) in n.contents.iter().enumerate() {
            if c.trim().is_empty() {
                out.push(empty(
                    path::index(&path::key(&at, "contents"), i),
                    "contents",
                ));
            }
        }
    }
}

/// The checks that need the book's calendars.
fn check_pack_references(pack: &RulePack, calendars: &CalendarSet) -> Vec<Diagnostic> {
    match &pack.calendar {
        Some(c) if !calendars.contains(c) => vec![Diagnostic::error(
            "unknown_calendar",
            "calendar",
            format!(
                "no holiday calendar `{c}`{}; known: {}",
                did_you_mean(c, calendars.iter().map(|x| x.id.as_str())),
                calendars
                    .iter()
                    .map(|x| x.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )],
        _ => Vec::new(),
    }
}

fn check_calendar(cal: &Calendar) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if cal.id.trim().is_empty() || cal.id.chars().any(char::is_whitespace) {
        out.push(Diagnostic::error(
            "bad_code",
            "id",
            "a calendar id is a single word, e.g. `us`",
        ));
    }
    for (i, h) in cal.holidays.iter().enumerate() {
        let at = path::index("holidays", i);
        let rule_at = path::key(&at, "rule");
        let bad = |msg: String| Diagnostic::error("bad_holiday", rule_at.clone(), msg);
        match h.rule {
            HolidayRule::Fixed { month, day, .. } => {
                // 2000 is a leap year: 29 February is allowed (it exists in leap years).
                if jiff::civil::Date::new(2000, month, day).is_err() {
                    out.push(bad(format!("{month:?}-{day:?} is not a day of the year")));
                }
            }
            HolidayRule::NthWeekday { month, n, .. } => {
                if !(1..=12).contains(&month) {
                    out.push(bad(format!("month {month} is not 1 to 12")));
                }
                if !(1..=5).contains(&n) && !(-5..=-1).contains(&n) {
                    out.push(bad(format!(
                        "n = {n}: write 1 to 5 for the first to fifth, -1 for the last (-2 the one before)"
                    )));
                }
            }
            HolidayRule::EasterOffset { days } => {
                if !(-200..=200).contains(&days) {
                    out.push(bad(format!(
                        "{days} days from Easter is out of range (-200 to 200)"
                    )));
                }
            }
        }
        if let (Some(a), Some(b)) = (h.from_year, h.until_year)
            && a > b
        {
            out.push(Diagnostic::error(
                "bad_holiday",
                path::key(&at, "until_year"),
                format!("until_year {b} is before from_year {a}"),
            ));
        }
    }
    out
}

fn io_error(file: &str, message: String) -> Diagnostic {
    let mut d = Diagnostic::error("io_error", "", message);
    d.file = file.to_string();
    d
}

/// Builds a book from sets of files: within one set ids must be unique; a later set
/// (a directory) replaces what an earlier one (the built-ins) had under the same id.
struct Assembly {
    packs: Vec<Loaded<RulePack>>,
    calendars: Vec<Loaded<Calendar>>,
    diags: Vec<Diagnostic>,
}

impl Assembly {
    fn new() -> Self {
        Self {
            packs: Vec::new(),
            calendars: Vec::new(),
            diags: Vec::new(),
        }
    }

    fn add_files(&mut self, packs: Vec<(String, String)>, calendars: Vec<(String, String)>) {
        // Within one source set, ids must be unique; across sets (built-ins, then a
        // directory) a later one replaces an earlier one.
        let mut cal_ids: HashSet<String> = HashSet::new();
        for (file, text) in calendars {
            match load_calendar(&text, &file) {
                Ok(c) => {
                    if !cal_ids.insert(c.value.id.clone()) {
                        let d = c.place(vec![duplicate_calendar(&c.value.id)]);
                        self.diags.extend(d);
                        continue;
                    }
                    self.calendars.retain(|x| x.value.id != c.value.id);
                    self.calendars.push(c);
                }
                Err(d) => self.diags.extend(d),
            }
        }
        let mut pack_ids: HashSet<String> = HashSet::new();
        for (file, text) in packs {
            match load_pack(&text, &file) {
                Ok(p) => {
                    if !pack_ids.insert(p.value.id.clone()) {
                        let d = p.place(vec![duplicate_pack(&p.value.id)]);
                        self.diags.extend(d);
                        continue;
                    }
                    match self.packs.iter().position(|x| x.value.id == p.value.id) {
                        Some(i) => self.packs[i] = p,
                        None => self.packs.push(p),
                    }
                }
                Err(d) => self.diags.extend(d),
            }
        }
    }

    fn finish(mut self) -> Result<RuleBook, Vec<Diagnostic>> {
        let calendars: CalendarSet = self.calendars.iter().map(|c| c.value.clone()).collect();
        for p in &self.packs {
            let d = p.place(check_pack_references(&p.value, &calendars));
            self.diags.extend(d);
        }
        if self.diags.iter().any(Diagnostic::is_error) {
            return Err(sorted(self.diags));
        }
        Ok(RuleBook {
            packs: self.packs.into_iter().map(|p| p.value).collect(),
            calendars,
        })
    }
}

fn builtin_files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, t)| ((*f).to_string(), (*t).to_string()))
        .collect()
}

/// The shipped packs and calendars, checked.
pub fn try_builtin() -> Result<RuleBook, Vec<Diagnostic>> {
    let mut a = Assembly::new();
    a.add_files(
        builtin_files(BUILTIN_PACKS),
        builtin_files(BUILTIN_CALENDARS),
    );
    a.finish()
}

static BUILTIN: OnceLock<Result<RuleBook, Vec<Diagnostic>>> = OnceLock::new();

/// The shipped packs (`rules/*.yaml`) and calendars (`rules/calendars/*.yaml`),
/// compiled in. Parsed once per process.
///
/// # Panics
///
/// Only if a shipped file does not parse — a defect of the build, not of any input;
/// a unit test parses every shipped file.
#[allow(
    clippy::panic,
    reason = "the shipped packs are compiled in and parsed by a unit test: a failure is a defect of the build, never of input"
)]
pub fn builtin() -> RuleBook {
    match BUILTIN.get_or_init(try_builtin) {
        Ok(book) => book.clone(),
        Err(diags) => {
            let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
            panic!("the shipped rule packs do not parse: {}", shown.join("; "))
        }
    }
}

/// The shipped book, shared: for the policy checker, which compares promises with
/// the shipped law. None only if a shipped file does not parse (see [`builtin`]).
pub(crate) fn shipped() -> Option<&'static RuleBook> {
    BUILTIN.get_or_init(try_builtin).as_ref().ok()
}

fn yaml_files(dir: &Path) -> Result<Vec<(String, String)>, Diagnostic> {
    let label = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| io_error(&label, format!("cannot read the directory: {e}")))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| io_error(&label, format!("cannot read the directory: {e}")))?;
        let p = entry.path();
        let is_yaml = p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml"));
        if is_yaml && p.is_file() {
            names.push(p);
        }
    }
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let file = p.display().to_string();
        let meta =
            std::fs::metadata(&p).map_err(|e| io_error(&file, format!("cannot read: {e}")))?;
        if meta.len() > yaml::MAX_SOURCE_BYTES as u64 {
            return Err(io_error(
                &file,
                format!(
                    "the file is {} bytes; a rule file may be at most {} bytes",
                    meta.len(),
                    yaml::MAX_SOURCE_BYTES
                ),
            ));
        }
        let text = std::fs::read_to_string(&p)
            .map_err(|e| io_error(&file, format!("cannot read: {e}")))?;
        out.push((file, text));
    }
    Ok(out)
}

/// The built-in book with a directory's packs (`dir/*.yaml`) and calendars
/// (`dir/calendars/*.yaml`, if that folder exists) laid over it: a pack or calendar
/// whose id is already known replaces it, a new one is added. Every problem in every
/// file is reported, positioned like the policy parser's, and nothing is returned
/// unless all is well (unique ids within the directory, known calendars and time
/// zones, terms above zero).
pub fn load_dir(dir: &Path) -> Result<RuleBook, Vec<Diagnostic>> {
    let packs = yaml_files(dir).map_err(|d| vec![d])?;
    let cal_dir = dir.join("calendars");
    let calendars = if cal_dir.is_dir() {
        yaml_files(&cal_dir).map_err(|d| vec![d])?
    } else {
        Vec::new()
    };
    let mut a = Assembly::new();
    a.add_files(
        builtin_files(BUILTIN_PACKS),
        builtin_files(BUILTIN_CALENDARS),
    );
    if !a.diags.is_empty() {
        return Err(sorted(a.diags));
    }
    a.add_files(packs, calendars);
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use vow_core::deadline::{ClockKind, VerificationLevel};

    #[test]
    fn every_shipped_file_parses_and_validates() {
        let book = match try_builtin() {
            Ok(b) => b,
            Err(d) => panic!(
                "{}",
                d.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        };
        assert_eq!(book.packs.len(), BUILTIN_PACKS.len());
        assert_eq!(book.calendars.len(), BUILTIN_CALENDARS.len());
        assert!(book.validate().is_empty(), "{:?}", book.validate());
        let ids: Vec<&str> = book.packs.iter().map(|p| p.id.as_str()).collect();
        for id in [
            "US-CA",
            "EU",
            "UK",
            "CA",
            "CA-QC",
            "US-VA",
            "US-CO",
            "US-CT",
            "BR",
            "CA-CASL",
            "US-CANSPAM",
        ] {
            assert!(ids.contains(&id), "{id} missing");
        }
        let _ = builtin();
    }

    #[test]
    fn breach_rules_are_as_in_rules_md() {
        use vow_core::breach::{Audience, RiskLevel};
        let b = builtin();
        let rules = |id: &str| b.pack(id).unwrap().breach.clone().unwrap();
        let eu = rules("EU");
        let sa = &eu.notices[&Audience::Authority];
        assert_eq!(sa.within, Some(Term::hours(72)));
        assert_eq!(sa.threshold, RiskLevel::Medium);
        let ds = &eu.notices[&Audience::Individuals];
        assert_eq!((ds.within, ds.threshold), (None, RiskLevel::High));
        assert!(ds.encryption_exempt);
        let ca = rules("US-CA");
        let ind = &ca.notices[&Audience::Individuals];
        assert_eq!(ind.within, Some(Term::calendar_days(30)));
        assert_eq!(ind.title.as_deref(), Some("Notice of Data Breach"));
        assert_eq!(ind.contents.len(), 5);
        let br = rules("BR");
        assert_eq!(
            br.notices[&Audience::Authority].within,
            Some(Term::business_days(3))
        );
        assert_eq!(b.pack("BR").unwrap().calendar.as_deref(), Some("br"));
        assert_eq!(rules("CA").keep_records, Some(Term::calendar_months(24)));
        assert!(rules("CA").notices[&Audience::Individuals].within.is_none());
        for silent in ["US-VA", "US-CO", "US-CT", "CA-CASL", "US-CANSPAM"] {
            assert!(b.pack(silent).unwrap().breach.is_none(), "{silent}");
        }
    }

    #[test]
    fn a_bad_breach_section_is_located() {
        let src = "id: XX\nname: X\nlaw: X\ntimezone: UTC\nscope: [XX]\nrequests:\n  access: {respond: 30 calendar_days, submitters: [subject], tag: V}\nbreach:\n  law: X\n  notices:\n    authority:\n      to: them\n      within: 0 hours\n      timing: now\n      threshold: low\n      contents: []\n      tag: V\n";
        let errs = parse_pack(src, "x.yaml").unwrap_err();
        let e = errs.iter().find(|d| d.code == "bad_term").unwrap();
        assert_eq!(
            (e.line, e.path.as_str()),
            (13, "breach.notices.authority.within")
        );
        let bad_audience = src.replace("    authority:", "    regulator:");
        let errs = parse_pack(&bad_audience, "x.yaml").unwrap_err();
        assert_eq!(errs[0].line, 11, "{errs:?}");
    }

    #[test]
    fn key_values_are_as_in_rules_md() {
        let b = builtin();
        let ca = b.pack("US-CA").unwrap();
        let know = ca.rule(RequestType::Know).unwrap();
        assert_eq!(know.respond, Term::calendar_days(45));
        assert_eq!(know.acknowledge, Some(Term::business_days(10)));
        assert_eq!(know.extension.unwrap().add, Term::calendar_days(45));
        let access = ca.rule(RequestType::Access).unwrap();
        assert_eq!(access.verification.level, VerificationLevel::ReasonablyHigh);
        assert_eq!(access.verification.points, 3);
        assert!(access.verification.signed_declaration);
        assert_eq!(access.verification.downgrade_to, Some(RequestType::Know));
        assert_eq!(
            ca.rule(RequestType::OptOut).unwrap().respond,
            Term::business_days(15)
        );
        let eu = b.pack("EU").unwrap().rule(RequestType::Access).unwrap();
        assert_eq!(eu.respond.clock, ClockKind::CalendarMonths);
        assert!(
            b.pack("UK")
                .unwrap()
                .rule(RequestType::Delete)
                .unwrap()
                .clock_pauses
        );
        let pipeda = b.pack("CA").unwrap().rule(RequestType::Access).unwrap();
        assert!(pipeda.extension.unwrap().complaint_statement);
        assert!(
            b.pack("CA-QC")
                .unwrap()
                .rule(RequestType::Access)
                .unwrap()
                .extension
                .is_none()
        );
        assert_eq!(
            b.pack("BR")
                .unwrap()
                .rule(RequestType::Access)
                .unwrap()
                .respond,
            Term::calendar_days(15)
        );
    }

    #[test]
    fn shipped_calendars_name_the_expected_holidays() {
        let b = builtin();
        let us = b.calendars.get("us").unwrap();
        // 2026: 4 July is a Saturday → observed Friday 3 July.
        assert!(us.is_holiday(date(2026, 7, 3)));
        assert!(us.is_holiday(date(2026, 11, 26))); // Thanksgiving
        assert!(us.is_holiday(date(2026, 6, 19))); // Juneteenth (Friday)
        // 2027: 1 January 2028 is a Saturday → observed Friday 31 December 2027.
        assert!(us.is_holiday(date(2027, 12, 31)));
        assert!(us.is_holiday(date(2027, 12, 24))); // Christmas 2027 is a Saturday
        let ca = b.calendars.get("ca").unwrap();
        assert!(ca.is_holiday(date(2026, 4, 3))); // Good Friday
        assert!(ca.is_holiday(date(2026, 5, 18))); // Victoria Day
        assert!(ca.is_holiday(date(2026, 10, 12))); // Thanksgiving
        assert!(ca.is_holiday(date(2026, 12, 28))); // Boxing Day (Sat) → Monday 28
        let uk = b.calendars.get("uk").unwrap();
        assert!(uk.is_holiday(date(2026, 4, 6))); // Easter Monday
        assert!(uk.is_holiday(date(2026, 12, 28))); // Boxing Day substitute
        assert!(uk.is_holiday(date(2022, 6, 2)) && !uk.is_holiday(date(2022, 5, 30)));
        assert!(uk.is_holiday(date(2027, 12, 27)) && uk.is_holiday(date(2027, 12, 28)));
    }

    fn codes(r: Result<RulePack, Vec<Diagnostic>>) -> Vec<(&'static str, usize, usize, String)> {
        match r {
            Ok(_) => Vec::new(),
            Err(d) => d
                .into_iter()
                .map(|d| (d.code, d.line, d.column, d.path))
                .collect(),
        }
    }

    const MINIMAL: &str = "id: XX\nname: Test\nlaw: Test Act\ntimezone: UTC\nscope: [XX]\nrequests:\n  access:\n    respond: 30 calendar_days\n    submitters: [subject]\n    tag: U\n";

    #[test]
    fn a_minimal_pack_parses() {
        let p = parse_pack(MINIMAL, "x.yaml").unwrap();
        assert_eq!(
            p.rule(RequestType::Access).unwrap().respond,
            Term::calendar_days(30)
        );
    }

    #[test]
    fn problems_are_positioned() {
        let bad_term = MINIMAL.replace("30 calendar_days", "30 fortnights");
        let c = codes(parse_pack(&bad_term, "x.yaml"));
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!((c[0].0, c[0].1), ("bad_value", 8));
        assert_eq!(c[0].3, "requests.access.respond");

        let zero = MINIMAL.replace("30 calendar_days", "0 calendar_days");
        let c = codes(parse_pack(&zero, "x.yaml"));
        assert_eq!((c[0].0, c[0].1, c[0].2), ("bad_term", 8, 14), "{c:?}");

        let tz = MINIMAL.replace("timezone: UTC", "timezone: Mars/Olympus");
        let c = codes(parse_pack(&tz, "x.yaml"));
        assert_eq!(
            (c[0].0, c[0].1, c[0].2),
            ("unknown_timezone", 4, 11),
            "{c:?}"
        );

        let unknown = MINIMAL.replace("    tag: U\n", "    tag: U\n    colour: red\n");
        let c = codes(parse_pack(&unknown, "x.yaml"));
        assert_eq!((c[0].0, c[0].1), ("unknown_key", 11), "{c:?}");

        let bad_type = MINIMAL.replace("  access:", "  acces:");
        let c = codes(parse_pack(&bad_type, "x.yaml"));
        assert_eq!((c[0].0, c[0].1), ("bad_value", 7), "{c:?}");

        let downgrade = MINIMAL.replace(
            "    tag: U\n",
            "    tag: U\n    verification: {level: reasonable, downgrade_to: know}\n",
        );
        let c = codes(parse_pack(&downgrade, "x.yaml"));
        assert_eq!(c[0].0, "bad_reference", "{c:?}");
    }

    #[test]
    fn load_dir_overrides_adds_and_checks_references() {
        let dir = std::env::temp_dir().join(format!("vow-rules-test-{}", std::process::id()));
        let cal = dir.join("calendars");
        std::fs::create_dir_all(&cal).unwrap();
        // Override CCPA's opt-out with 10 business days; add a pack; add a calendar.
        let ca = BUILTIN_PACKS[0]
            .1
            .replace("respond: 15 business_days", "respond: 10 business_days");
        std::fs::write(dir.join("us-ca.yaml"), ca).unwrap();
        std::fs::write(
            dir.join("xx.yaml"),
            MINIMAL.replace("timezone: UTC", "timezone: UTC\ncalendar: xx"),
        )
        .unwrap();
        std::fs::write(
            cal.join("xx.yaml"),
            "id: xx\nname: Test\nextra: [2026-01-02]\n",
        )
        .unwrap();
        let book = load_dir(&dir).unwrap();
        assert_eq!(book.packs.len(), BUILTIN_PACKS.len() + 1);
        assert_eq!(
            book.pack("US-CA")
                .unwrap()
                .rule(RequestType::OptOut)
                .unwrap()
                .respond,
            Term::business_days(10)
        );
        assert!(
            book.calendars
                .get("xx")
                .unwrap()
                .is_holiday(date(2026, 1, 2))
        );

        // An unknown calendar is reported at the pack's `calendar` key.
        std::fs::remove_file(cal.join("xx.yaml")).unwrap();
        let d = load_dir(&dir).unwrap_err();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            (d[0].code, d[0].line, d[0].column),
            ("unknown_calendar", 5, 11)
        );
        assert!(d[0].file.ends_with("xx.yaml"));

        // Two files with one id.
        std::fs::write(dir.join("xx2.yaml"), MINIMAL).unwrap();
        std::fs::remove_file(dir.join("xx.yaml")).unwrap();
        std::fs::write(dir.join("xx1.yaml"), MINIMAL).unwrap();
        let d = load_dir(&dir).unwrap_err();
        assert!(d.iter().any(|d| d.code == "duplicate_id"), "{d:?}");
        std::fs::remove_dir_all(&dir).unwrap();

        let d = load_dir(Path::new("/nonexistent/vow-rules")).unwrap_err();
        assert_eq!(d[0].code, "io_error");
    }

    const DOC: &str = include_str!("../../../docs/rules.md");
    const TABLES_START: &str = "<!-- pack-tables:start -->\n";
    const TABLES_END: &str = "<!-- pack-tables:end -->";

    fn term(t: Option<Term>) -> String {
        t.map_or_else(|| "—".to_string(), |t| t.to_string())
    }

    /// The per-pack tables of docs/rules.md, rendered from the shipped data.
    fn pack_tables(book: &RuleBook) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        for p in &book.packs {
            let _ = writeln!(s, "### {} — {}\n", p.id, p.name);
            let _ = writeln!(
                s,
                "- Law: {}\n- Time zone `{}`; calendar `{}`; activation `{}`\n- Scope: {}\n",
                p.law,
                p.timezone,
                p.calendar.as_deref().unwrap_or("none"),
                serde_json::to_value(p.activation)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                p.scope
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            s.push_str("| request | acknowledge | respond | extension | pauses | verification | submitters | appeal | tag |\n");
            s.push_str("|---|---|---|---|---|---|---|---|---|\n");
            for (rt, r) in &p.requests {
                let ext = r.extension.map_or_else(
                    || "—".to_string(),
                    |e| {
                        let mut v = vec![format!("+{}", e.add)];
                        if e.notice_before_first_deadline {
                            v.push("notice before first deadline".into());
                        }
                        if e.reason_required {
                            v.push("reasons".into());
                        }
                        if e.complaint_statement {
                            v.push("right to complain".into());
                        }
                        v.join("; ")
                    },
                );
                let ver = &r.verification;
                let mut v = vec![
                    serde_json::to_value(ver.level)
                        .ok()
                        .and_then(|x| x.as_str().map(str::to_string))
                        .unwrap_or_default(),
                ];
                if ver.points > 0 {
                    v.push(format!("{} points", ver.points));
                }
                if ver.signed_declaration {
                    v.push("signed declaration".into());
                }
                if let Some(d) = ver.downgrade_to {
                    v.push(format!("else as `{d}`"));
                }
                let appeal = r.appeal.map_or_else(
                    || "—".to_string(),
                    |a| match a.request_within {
                        Some(w) => format!("within {w}; decide in {}", a.respond),
                        None => format!("decide in {}", a.respond),
                    },
                );
                let _ = writeln!(
                    s,
                    "| `{rt}` | {} | {} | {ext} | {} | {} | {} | {appeal} | {} |",
                    term(r.acknowledge),
                    r.respond,
                    if r.clock_pauses { "yes" } else { "no" },
                    v.join(", "),
                    r.submitters
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    r.tag,
                );
            }
            // Request types sharing a note are listed together.
            let mut grouped: Vec<(Vec<String>, &str)> = Vec::new();
            for (rt, r) in &p.requests {
                let Some(n) = r.note.as_deref() else { continue };
                match grouped.iter_mut().find(|(_, x)| *x == n) {
                    Some((types, _)) => types.push(format!("`{rt}`")),
                    None => grouped.push((vec![format!("`{rt}`")], n)),
                }
            }
            let notes: Vec<String> = grouped
                .into_iter()
                .map(|(types, n)| format!("- {}: {n}", types.join(", ")))
                .collect();
            if !notes.is_empty() {
                s.push('\n');
                for n in notes {
                    s.push_str(&n);
                    s.push('\n');
                }
            }
            if let Some(b) = &p.breach {
                let _ = writeln!(s, "\nBreach notification ({}):\n", b.law);
                s.push_str("| audience | to | within | timing | from risk | encrypted, keys safe | contents | tag |\n|---|---|---|---|---|---|---|---|\n");
                for (aud, n) in &b.notices {
                    let _ = writeln!(
                        s,
                        "| `{aud}` | {} | {} | {} | {} | {} | {} | {} |",
                        n.to,
                        term(n.within),
                        n.timing,
                        n.threshold,
                        if n.encryption_exempt {
                            "exempt"
                        } else {
                            "owed"
                        },
                        if n.contents.is_empty() {
                            "not listed in RULES.md".to_string()
                        } else {
                            n.contents.join("; ")
                        },
                        n.tag,
                    );
                }
                if let Some(k) = b.keep_records {
                    let _ = writeln!(s, "\nKeep the breach record: {k}.");
                }
            }
            s.push_str("\nSources:\n\n");
            for src in &p.sources {
                let _ = writeln!(s, "- [{}] {} — <{}>", src.tag, src.title, src.url);
            }
            s.push('\n');
        }
        s
    }

    /// docs/rules.md shows the shipped values; `VOW_UPDATE_DOCS=1` rewrites its tables.
    #[test]
    fn the_docs_tables_are_the_shipped_data() {
        let want = pack_tables(&builtin());
        let (Some(a), Some(b)) = (DOC.find(TABLES_START), DOC.find(TABLES_END)) else {
            panic!("docs/rules.md has no pack-tables markers");
        };
        let have = &DOC[a + TABLES_START.len()..b];
        if have != want {
            if std::env::var_os("VOW_UPDATE_DOCS").is_some() {
                let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md");
                let new = format!("{}{}{}", &DOC[..a + TABLES_START.len()], want, &DOC[b..]);
                std::fs::write(path, new).unwrap();
            } else {
                panic!("docs/rules.md is out of date; run the test with VOW_UPDATE_DOCS=1");
            }
        }
    }

    #[test]
    fn every_code_is_documented() {
        for code in [
            "missing_key",
            "unknown_key",
            "duplicate_key",
            "bad_type",
            "bad_value",
            "yaml_syntax",
            "limit_exceeded",
            "bad_code",
            "bad_term",
            "bad_reference",
            "bad_holiday",
            "unknown_timezone",
            "unknown_calendar",
            "duplicate_id",
            "io_error",
        ] {
            assert!(
                DOC.contains(&format!("`{code}`")),
                "{code} is not in docs/rules.md"
            );
        }
    }

    /// The YAML examples in docs/rules.md parse: packs, and calendars (with `holidays`).
    #[test]
    fn the_docs_examples_parse() {
        let mut blocks = Vec::new();
        let mut current: Option<String> = None;
        for line in DOC.lines() {
            match (&mut current, line.trim_end()) {
                (None, "```yaml") => current = Some(String::new()),
                (Some(_), "```") => blocks.extend(current.take()),
                (Some(b), l) => {
                    b.push_str(l);
                    b.push('\n');
                }
                _ => {}
            }
        }
        assert!(blocks.len() >= 2);
        for b in blocks {
            if b.contains("holidays:") {
                parse_calendar(&b, "doc.yaml").unwrap_or_else(|d| panic!("{d:?}"));
            } else {
                parse_pack(&b, "doc.yaml").unwrap_or_else(|d| panic!("{d:?}"));
            }
        }
    }

    #[test]
    fn calendar_problems_are_positioned() {
        let src = "id: t\nname: T\nholidays:\n  - name: Bad\n    rule: {fixed: {month: 2, day: 30}}\n  - name: Worse\n    rule: {nth_weekday: {month: 5, weekday: monday, n: 0}}\n";
        let d = parse_calendar(src, "t.yaml").unwrap_err();
        let got: Vec<_> = d.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(got, vec![("bad_holiday", 5), ("bad_holiday", 7)]);
        let src = "id: t\nname: T\nholidays:\n  - name: X\n    rule: {fixed: {month: 1, day: 1, observed: sometimes}}\n";
        let d = parse_calendar(src, "t.yaml").unwrap_err();
        assert_eq!((d[0].code, d[0].line), ("bad_value", 5), "{d:?}");
    }
}
