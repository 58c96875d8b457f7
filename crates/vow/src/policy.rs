//! `vow policy check|render|diff`: policy files on their own, no store.

use crate::common::{Output, out, outln, print_json, read_file};
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy; errors name file, line, column and field; warnings flag
    /// promises weaker than the law. Exits 2 on errors.
    #[command(after_help = "Example:\n  vow policy check examples/research-operator/policy.yaml")]
    Check {
        /// The policy file (YAML or JSON).
        file: PathBuf,
        /// `table` prints the diagnostics; `json` prints {"ok", "diagnostics"}.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Render the human-readable notice with the California disclosure tables.
    #[command(
        after_help = "Example:\n  vow policy render examples/research-operator/policy.yaml --format html > notice.html"
    )]
    Render {
        /// The policy file (YAML or JSON).
        file: PathBuf,
        /// The document's format.
        #[arg(long, value_enum, default_value = "md")]
        format: RenderFormat,
    },
    /// What publishing NEW after OLD would change (S5), and which purposes would need
    /// fresh consent. Reads the two files only.
    #[command(after_help = "Example:\n  vow policy diff policy-v1.yaml policy-v2.yaml")]
    Diff {
        /// The policy in force now.
        old: PathBuf,
        /// The policy to be published.
        new: PathBuf,
        /// `table` prints one line per change; `json` the diff itself.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RenderFormat {
    /// Markdown.
    Md,
    /// A standalone HTML page.
    Html,
}

pub fn run(command: PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Check { file, output } => {
            let text = read_file(&file)?;
            let name = file.display().to_string();
            let (ok, diagnostics) = match vow_policy::parse(&text, &name) {
                Ok(c) => (true, c.warnings),
                Err(d) => (false, d),
            };
            if output == Output::Json {
                print_json(&serde_json::json!({"ok": ok, "diagnostics": diagnostics}))?;
            } else {
                for d in &diagnostics {
                    eprintln!("{d}");
                }
                let errors = diagnostics
                    .iter()
                    .filter(|d| d.severity == vow_policy::Severity::Error)
                    .count();
                if ok {
                    outln!("{name}: ok ({} warning(s))", diagnostics.len());
                } else {
                    eprintln!(
                        "{name}: {errors} error(s), {} warning(s)",
                        diagnostics.len() - errors
                    );
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        PolicyCommand::Render { file, format } => {
            let text = read_file(&file)?;
            let checked = match vow_policy::parse(&text, &file.display().to_string()) {
                Ok(c) => c,
                Err(d) => {
                    for x in &d {
                        eprintln!("{x}");
                    }
                    return Ok(ExitCode::from(2));
                }
            };
            match format {
                RenderFormat::Md => out!("{}", vow_policy::render_markdown(&checked.policy, None)),
                RenderFormat::Html => out!("{}", vow_policy::render_html(&checked.policy, None)),
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Diff { old, new, output } => crate::changes::policy_diff(&old, &new, output),
    }
}
