//! What `parse` and `validate` report: one problem, where it is, and why.

use serde::Serialize;
use std::fmt;

/// How serious a problem is. An error stops the policy from being used; a warning
/// does not, but says something a privacy officer should look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable machine code (see `docs/policy.md`, "Problems the checker reports").
    pub code: &'static str,
    /// The file name as the caller gave it.
    pub file: String,
    /// 1-based line of the offending node (or its nearest known ancestor); 0 when unknown.
    pub line: usize,
    /// 1-based column, counted in characters; 0 when unknown.
    pub column: usize,
    /// The field's path, e.g. `purposes[2].categories[0]`; empty for the file as a whole.
    pub path: String,
    /// What is wrong, and why or what is expected.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn error(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            code,
            file: String::new(),
            line: 0,
            column: 0,
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn warning(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, path, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `{file}:{line}:{column}: {error|warning}[{code}]: {path}: {message}`; the
    /// `{path}: ` part is left out when the problem concerns the whole file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: ",
            self.file, self.line, self.column, self.severity, self.code
        )?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_json() {
        let mut d = Diagnostic::error("unknown_key", "purposes[2].colour", "unknown key");
        d.file = "policy.yaml".into();
        d.line = 7;
        d.column = 3;
        assert_eq!(
            d.to_string(),
            "policy.yaml:7:3: error[unknown_key]: purposes[2].colour: unknown key"
        );
        let j = serde_json::to_value(&d).unwrap();
        assert_eq!(j["severity"], "error");
        assert_eq!(j["line"], 7);
        assert_eq!(j["code"], "unknown_key");
        let w = Diagnostic::warning("weaker_than_law", "", "m");
        assert_eq!(w.to_string(), ":0:0: warning[weaker_than_law]: m");
    }
}
