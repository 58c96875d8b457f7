//! `vow audit`: verify the hash chain (against checkpoints kept elsewhere), make a
//! signed checkpoint, show the public key; and the witnesses `vow serve` publishes
//! checkpoints to.

use crate::common::{Output, bad, outln, print_json};
use crate::config::{AuditConfig, Config};
use anyhow::{Context, Result};
use clap::Subcommand;
use indicatif::ProgressBar;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use vow_engine::{Actor, Anchors, Checkpoint, Engine};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chains (every tenant's, and the store's own that records
    /// their starts and heads) and check each head's signature; with --checkpoint or
    /// --expect, also that the store's chain still holds what was recorded elsewhere
    /// (catches a cut tail, an older copy restored, a wiped chain). Exit 1 naming each
    /// problem. The last line gives the entry count and the head hash.
    #[command(
        after_help = "Examples:\n  vow audit verify --data ./vow-data\n  vow audit verify --tenant acme\n  vow audit verify --checkpoint /mnt/witness/vow-checkpoints.jsonl\n  vow audit verify --expect 1042:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    )]
    Verify {
        /// Check this tenant's chain alone (and what the store's chain records of it);
        /// --expect then names entries of that chain.
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
        /// A file of signed checkpoints (JSON lines, as the witness file or `vow audit
        /// checkpoint --out` writes them); every one must verify and match the chain.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
        /// SEQ:HASH: the store's chain (the tenant's, with --tenant) must hold entry SEQ
        /// with this hash (hex), e.g. a head recorded elsewhere. May be given more than once.
        #[arg(long, value_name = "SEQ:HASH")]
        expect: Vec<String>,
        /// `table` prints the problems and a last line; `json` the report
        /// ({"ok","entries","head","first_bad","problems","head_signature",…}).
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Make a signed checkpoint of the chain now: publish it to the configured
    /// witnesses (audit_witness_file, audit_witness_url) and print it, or write it to
    /// a file.
    #[command(
        after_help = "Examples:\n  vow audit checkpoint\n  vow audit checkpoint --out /mnt/witness/vow-checkpoint.json"
    )]
    Checkpoint {
        /// Write the checkpoint (one JSON line) to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The Ed25519 public key that signs the chain's head and checkpoints: give it to
    /// whoever keeps or checks checkpoints (it needs no root key).
    #[command(
        after_help = "Examples:\n  vow audit public-key > vow-audit.pem\n  vow audit public-key --output json"
    )]
    PublicKey {
        /// `table` prints the key as PEM; `json` gives the key id, hex and PEM.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub async fn run(
    engine: &Arc<Engine>,
    cfg: &Config,
    actor: &Actor,
    command: AuditCommand,
) -> Result<ExitCode> {
    match command {
        AuditCommand::Verify {
            tenant,
            checkpoint,
            expect,
            output,
        } => {
            verify(
                engine,
                actor,
                tenant.as_deref(),
                &checkpoint,
                &expect,
                output,
            )
            .await
        }
        AuditCommand::Checkpoint { out } => {
            let c = engine.audit_checkpoint(actor).await?;
            let witness = Witness::new(&cfg.audit)?;
            let failures = witness.publish(&c).await;
            for f in &failures {
                eprintln!("{f}");
            }
            let line = serde_json::to_string(&c)?;
            match out {
                Some(path) => std::fs::write(&path, format!("{line}\n"))
                    .with_context(|| format!("writing {}", path.display()))?,
                None => outln!("{line}"),
            }
            Ok(if failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        AuditCommand::PublicKey { output } => {
            let k = engine.audit_public_key();
            if output == Output::Json {
                print_json(&k)?;
            } else {
                crate::common::out!("{}", k.pem);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn verify(
    engine: &Arc<Engine>,
    actor: &Actor,
    tenant: Option<&str>,
    files: &[PathBuf],
    expect: &[String],
    output: Output,
) -> Result<ExitCode> {
    let mut anchors = Anchors::default();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| bad(format!("--checkpoint {}: {e}", f.display())))?;
        let parsed = Checkpoint::parse_file(&text)
            .map_err(|e| bad(format!("--checkpoint {}: {e}", f.display())))?;
        anchors.checkpoints.extend(parsed);
    }
    for e in expect {
        anchors
            .expect
            .push(vow_engine::parse_expect("--expect", e).map_err(|e| bad(format!("{e}")))?);
    }
    let bar = if output == Output::Table {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    let r = engine
        .verify_audit(actor, tenant, &anchors, |n| {
            bar.set_message(format!("{n} entries"))
        })
        .await?;
    bar.finish_and_clear();
    if output == Output::Json {
        print_json(&r)?;
    } else {
        for (i, p) in r.problems.iter().enumerate() {
            let lead = if i == 0 { "audit chain BROKEN" } else { "also" };
            // Each problem names its entry and chain.
            eprintln!("{lead}: {}", p.problem);
        }
        if r.anchors_checked > 0 {
            outln!(
                "checked against {} checkpoint(s) or expected hash(es)",
                r.anchors_checked
            );
        }
        if r.ok {
            outln!(
                "to anchor it, record: --expect {}:{}",
                r.head_seq,
                r.last_hash
            );
        }
        outln!(
            "{} chain(s) checked{}",
            r.chains,
            r.tenant
                .as_ref()
                .map(|t| format!(" (tenant {t} alone)"))
                .unwrap_or_default()
        );
        outln!(
            "audit chain {}: {} entries verified; head {}",
            if r.ok { "intact" } else { "NOT intact" },
            r.entries,
            r.last_hash
        );
    }
    Ok(if r.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Where checkpoints go: a file (JSON lines, appended and synced) and/or a URL
/// (POSTed as JSON). A checkpoint carries its own Ed25519 signature, so a receiver
/// checks it with the public key alone; no shared secret is needed.
pub struct Witness {
    file: Option<PathBuf>,
    url: Option<(String, reqwest::Client)>,
}

impl Witness {
    pub fn new(cfg: &AuditConfig) -> Result<Witness> {
        let url = match &cfg.witness_url {
            Some(u) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("vow-audit-witness/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .context("building the audit witness's HTTP client")?;
                Some((u.clone(), client))
            }
            None => None,
        };
        Ok(Witness {
            file: cfg.witness_file.clone(),
            url,
        })
    }

    /// Whether any witness is configured.
    pub fn any(&self) -> bool {
        self.file.is_some() || self.url.is_some()
    }

    /// Publish to every witness; the messages of those that failed.
    pub async fn publish(&self, c: &Checkpoint) -> Vec<String> {
        let mut failed = Vec::new();
        if let Err(e) = self.to_file(c) {
            failed.push(e);
        }
        if let Err(e) = self.to_url(c).await {
            failed.push(e);
        }
        failed
    }

    /// Append the checkpoint to the witness file (if one is configured).
    fn to_file(&self, c: &Checkpoint) -> Result<(), String> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        append_line(path, c).map_err(|e| {
            format!(
                "audit witness file {}: cannot append the checkpoint of entry {}: {e}",
                path.display(),
                c.seq
            )
        })
    }

    /// POST the checkpoint to the witness URL (if one is configured); a 2xx takes it.
    async fn to_url(&self, c: &Checkpoint) -> Result<(), String> {
        let Some((url, client)) = &self.url else {
            return Ok(());
        };
        let fail = |why: String| {
            format!(
                "audit witness URL: the checkpoint of entry {} was not taken: {why}",
                c.seq
            )
        };
        let res = client.post(url).json(c).send().await.map_err(|e| {
            fail(
                if e.is_timeout() {
                    "timeout"
                } else {
                    "no connection"
                }
                .into(),
            )
        })?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(fail(format!("status {}", res.status().as_u16())))
        }
    }
}

fn append_line(path: &Path, c: &Checkpoint) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(c)?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&line)?;
    f.sync_data()
}

/// `vow serve`'s checkpointer: every second, a checkpoint if one is due (every
/// `audit_checkpoint_every` entries, or `audit_checkpoint_interval` while the chain
/// grows), published to the witnesses. A witness that failed gets the newest
/// checkpoint again on the next round, until it takes one.
pub fn spawn_checkpointer(engine: Arc<Engine>, cfg: &AuditConfig) -> Result<CheckpointTask> {
    let witness = Arc::new(Witness::new(cfg)?);
    if !witness.any() {
        tracing::warn!(
            "no audit witness is configured (audit_witness_file, audit_witness_url): checkpoints are kept only in the store, where they cannot show that the chain was cut or rolled back"
        );
    }
    let (every, interval) = (cfg.every, cfg.interval);
    let w = witness.clone();
    let task = tokio::spawn(async move {
        let actor = Actor::local("audit-checkpointer");
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        // The newest checkpoint each witness has not taken yet.
        let (mut for_file, mut for_url): (Option<Checkpoint>, Option<Checkpoint>) = (None, None);
        loop {
            tick.tick().await;
            match engine
                .audit_checkpoint_if_due(&actor, every, interval)
                .await
            {
                Ok(Some(c)) => {
                    tracing::info!(seq = c.seq, "audit checkpoint made");
                    for_file = Some(c.clone());
                    for_url = Some(c);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(code = e.code(), "audit checkpoint failed"),
            }
            if let Some(c) = &for_file {
                match w.to_file(c) {
                    Ok(()) => for_file = None,
                    Err(e) => tracing::warn!("{e}"),
                }
            }
            if let Some(c) = &for_url {
                match w.to_url(c).await {
                    Ok(()) => for_url = None,
                    Err(e) => tracing::warn!("{e}"),
                }
            }
        }
    });
    Ok(CheckpointTask { task, witness })
}

/// The running checkpointer, and its witnesses for the last checkpoint at shutdown.
pub struct CheckpointTask {
    task: tokio::task::JoinHandle<()>,
    witness: Arc<Witness>,
}

impl CheckpointTask {
    /// Stop, then publish a last checkpoint if the chain grew since the one before:
    /// the witnesses then hold the exact head the server stopped at. Call it after the
    /// server has stopped taking requests, before the store is closed.
    pub async fn finish(self, engine: &Engine) {
        self.task.abort();
        engine.flush_audit().await;
        let actor = Actor::local("audit-checkpointer");
        match engine
            .audit_checkpoint_if_due(&actor, 1, Duration::ZERO)
            .await
        {
            Ok(Some(c)) => {
                for f in self.witness.publish(&c).await {
                    tracing::warn!("{f}");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(code = e.code(), "audit checkpoint failed"),
        }
    }
}
