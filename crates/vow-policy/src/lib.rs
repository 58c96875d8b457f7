//! The policy file format: reading a privacy policy written in YAML (or JSON) into
//! [`vow_core::Policy`] with precise errors, checking it, and rendering it back into a
//! human-readable notice with the California disclosure tables.
//!
//! ```
//! let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/full.yaml")).unwrap();
//! match vow_policy::parse(&yaml, "full.yaml") {
//!     Ok(checked) => {
//!         for w in &checked.warnings { eprintln!("{w}"); }
//!         let html = vow_policy::render_html(&checked.policy, Some(1));
//!         assert!(html.starts_with("<!DOCTYPE html>"));
//!     }
//!     Err(problems) => for p in &problems { eprintln!("{p}"); },
//! }
//! ```
//!
//! The format is documented for authors in `docs/policy.md`.

mod de;
mod diagnostic;
pub mod diff;
mod law;
mod notice;
mod path;
mod render;
pub mod rules;
mod util;
mod validate;
mod yaml;

pub use diagnostic::{Diagnostic, Severity};
pub use diff::{PolicyDiff, consent_since, diff};
pub use notice::{Block, Inline, Notice, Rich};
pub use render::{notice as notice_document, render_html, render_markdown};
pub use rules::RuleBook;
pub use validate::{REQUEST_TYPES, validate};
pub use yaml::{MAX_DEPTH, MAX_SOURCE_BYTES};

use vow_core::Policy;

/// A policy that parsed and passed every check, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Checked {
    pub policy: Policy,
    pub warnings: Vec<Diagnostic>,
}

fn finish(mut diags: Vec<Diagnostic>, file: &str) -> Vec<Diagnostic> {
    for d in &mut diags {
        d.file = file.to_string();
    }
    // Stable: problems at the same place keep the order they were found in.
    diags.sort_by_key(|d| (d.line, d.column));
    diags
}

/// The keys a policy must have (the non-optional fields of [`Policy`]; a test keeps
/// this list honest).
const REQUIRED_TOP_LEVEL: &[&str] = &[
    "format",
    "organisation",
    "effective_date",
    "categories",
    "purposes",
];

fn missing_top_level(root: &yaml::Node) -> Vec<Diagnostic> {
    let yaml::Kind::Map(entries) = &root.kind else {
        return Vec::new();
    };
    REQUIRED_TOP_LEVEL
        .iter()
        .filter(|k| !entries.iter().any(|e| e.key.scalar_text() == Some(**k)))
        .map(|k| {
            let mut d = Diagnostic::error(
                "missing_key",
                *k,
                format!("the required key `{k}` is missing"),
            );
            d.line = root.pos.line;
            d.column = root.pos.column;
            d
        })
        .collect()
}

/// Parse a policy (YAML; JSON is YAML too) and run every check.
///
/// `file` is only used to label the diagnostics. On failure, the `Err` holds every
/// error found — syntax, structure, types, references — together with the warnings
/// (for structural errors the semantic checks do not run, since they would report
/// consequences). Diagnostics are ordered by position.
pub fn parse(source: &str, file: &str) -> Result<Checked, Vec<Diagnostic>> {
    let root = match yaml::read(source) {
        Ok(Some(root)) if !matches!(&root.kind, yaml::Kind::Scalar(s) if s.is_null()) => root,
        Ok(_) => {
            let mut d = Diagnostic::error(
                "missing_key",
                "",
                "the file is empty; a policy needs at least format, organisation, effective_date, categories and purposes",
            );
            d.line = 1;
            d.column = 1;
            return Err(finish(vec![d], file));
        }
        Err(e) => {
            let mut d = Diagnostic::error(e.code, "", e.message);
            d.line = e.pos.line;
            d.column = e.pos.column;
            return Err(finish(vec![d], file));
        }
    };
    let policy: Policy = match de::from_node(&root) {
        Ok(p) => p,
        Err(mut diags) => {
            // serde names only the first missing key of a mapping; name every missing
            // top-level key, which is where whole sections tend to be forgotten.
            for d in missing_top_level(&root) {
                if !diags.iter().any(|x| x.code == d.code && x.path == d.path) {
                    diags.push(d);
                }
            }
            return Err(finish(diags, file));
        }
    };
    let mut diags = validate(&policy);
    for d in &mut diags {
        let pos = path::locate(&root, &d.path, d.code == "unknown_key");
        d.line = pos.line;
        d.column = pos.column;
    }
    let diags = finish(diags, file);
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        Ok(Checked {
            policy,
            warnings: diags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/full.yaml");

    /// Every key in REQUIRED_TOP_LEVEL is required by the model, and no other is.
    #[test]
    fn required_top_level_keys_match_the_model() {
        let root = yaml::read(FIXTURE).unwrap().unwrap();
        let yaml::Kind::Map(entries) = &root.kind else {
            panic!()
        };
        for e in entries {
            let key = e.key.scalar_text().unwrap();
            let mut pruned = root.clone();
            if let yaml::Kind::Map(es) = &mut pruned.kind {
                es.retain(|x| x.key.scalar_text() != Some(key));
            }
            let result = de::from_node::<Policy>(&pruned);
            let required = REQUIRED_TOP_LEVEL.contains(&key);
            match result {
                Ok(_) => assert!(!required, "{key} should be required"),
                Err(d) => {
                    assert!(required, "{key} is required by the model: {d:?}");
                    assert_eq!(d[0].code, "missing_key");
                    assert_eq!(d[0].path, key);
                }
            }
        }
    }
}
