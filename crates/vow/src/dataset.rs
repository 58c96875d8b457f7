//! `vow dataset check`: a fideslang dataset manifest on its own, no store.

use crate::common::{Output, outln, print_json, read_file};
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use vow_policy::Severity;

#[derive(Subcommand)]
pub enum DatasetCommand {
    /// Check a dataset manifest (the fideslang format Fides reads): its shape, names,
    /// categories (against --policy if given), identities, data types, masking
    /// strategies, references, and that every collection can be reached from an
    /// identity. Errors name file, line, column and field. Exits 2 on errors.
    #[command(
        after_help = "Examples:\n  vow dataset check examples/shop/dataset.yml\n  vow dataset check shop.yml --policy policy.yaml --output json"
    )]
    Check {
        /// The manifest (YAML).
        file: PathBuf,
        /// Check the categories against this policy's (a category must be one it
        /// defines, or within one; `system.…` categories are not about people).
        #[arg(long, value_name = "POLICY")]
        policy: Option<PathBuf>,
        /// `table` prints the problems and a summary; `json` prints {"ok", "diagnostics", "summary"}.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub fn run(command: DatasetCommand) -> Result<ExitCode> {
    match command {
        DatasetCommand::Check {
            file,
            policy,
            output,
        } => {
            let policy = match policy {
                None => None,
                Some(p) => {
                    let text = read_file(&p)?;
                    match vow_policy::parse(&text, &p.display().to_string()) {
                        Ok(c) => Some(c.policy),
                        Err(d) => {
                            for d in &d {
                                eprintln!("{d}");
                            }
                            return Err(crate::common::bad(format!(
                                "the policy {} has errors: check it with vow policy check",
                                p.display()
                            )));
                        }
                    }
                }
            };
            let known = policy
                .as_ref()
                .map(|p| move |c: &vow_core::Category| p.knows_category(c));
            let text = read_file(&file)?;
            let name = file.display().to_string();
            let checked = vow_connect::check(
                &text,
                &name,
                known
                    .as_ref()
                    .map(|k| k as &dyn Fn(&vow_core::Category) -> bool),
            );
            let (ok, diagnostics, summary) = match checked {
                Ok(c) => (true, c.warnings, Some(c.summary)),
                Err(d) => (false, d, None),
            };
            if output == Output::Json {
                print_json(&serde_json::json!({
                    "ok": ok,
                    "diagnostics": diagnostics,
                    "summary": summary,
                }))?;
            } else {
                for d in &diagnostics {
                    eprintln!("{d}");
                }
                let errors = diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                match &summary {
                    Some(s) => {
                        outln!(
                            "{name}: ok ({} warning(s)): {} dataset(s), {} collection(s), {} field(s)",
                            diagnostics.len(),
                            s.datasets,
                            s.collections,
                            s.fields
                        );
                        for (identity, fields) in &s.identities {
                            outln!("  identity {identity}: {}", fields.join(", "));
                        }
                    }
                    None => eprintln!(
                        "{name}: {errors} error(s), {} warning(s)",
                        diagnostics.len() - errors
                    ),
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}
