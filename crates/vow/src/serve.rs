//! `vow serve`: start-up, the background loops, graceful shutdown. Connections
//! (TLS, limits, timeouts) are `listen`'s.

use crate::common::{Init, open_engine, outln};
use crate::config::{Config, redact_url};
use anyhow::{Context, Result};
use std::net::SocketAddr;
use tracing_subscriber::EnvFilter;
use vow_core::TenantId;
use vow_engine::Actor;

fn init_logging(cfg: &Config) {
    let filter = EnvFilter::try_new(&cfg.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Ignore "already set": tests may start several servers in one process.
    let _ = if cfg.log_format == "text" {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    };
}

pub async fn serve(cfg: Config) -> Result<()> {
    init_logging(&cfg);
    // The TLS files first: a key others can read stops start-up before anything is made.
    let tls = match &cfg.tls {
        Some((cert, key)) => Some(crate::listen::tls_acceptor(cert, key)?),
        None => None,
    };
    let (engine, created_key) = open_engine(&cfg, Init::MayCreate).await?;
    if created_key {
        tracing::info!(path = %cfg.key_file.display(), "created a new root key file (mode 0600): back it up; without it the data cannot be read");
    }
    // A store restored from an older copy must not bring back anyone erased since.
    let r = engine
        .reconcile_erasures(&Actor::local("erasure-ledger"))
        .await?;
    if r.reapplied > 0 || r.recorded > 0 {
        tracing::warn!(
            reapplied = r.reapplied,
            recorded = r.recorded,
            "erasures made after this copy of the store was taken were applied again"
        );
    }
    // An import whose process was killed left invisible subjects behind: remove them.
    let undone = engine
        .undo_abandoned_imports(&Actor::local("import-recovery"))
        .await?;
    if undone.imports > 0 {
        tracing::warn!(
            imports = undone.imports,
            subjects = undone.subjects,
            "imports left unfinished were undone"
        );
    }
    let actor = Actor::local("bootstrap");
    if engine.api_keys(&actor, None).await?.is_empty() {
        let k = engine
            .create_api_key(
                &actor,
                None,
                vow_core::Role::Admin,
                None,
                Some("bootstrap admin"),
            )
            .await?;
        // Printed once, to the terminal only; it never reaches the log.
        outln!(
            "bootstrap admin API key (shown once, store it now): {}",
            k.key
        );
    }
    let addr: SocketAddr = cfg.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address like 127.0.0.1:8080",
            cfg.listen
        )
    })?;
    let app = vow_server::router_with(
        engine.clone(),
        vow_server::RouterOptions {
            metrics_key: cfg.metrics_key.clone(),
        },
    );
    // Deadlines are kept by a loop, not by people remembering: every minute, requests
    // whose deadline passed unverified are denied in writing.
    let sweeper = {
        let engine = engine.clone();
        tokio::spawn(async move {
            let actor = Actor::local("deadline-sweeper");
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Ok(tenants) = engine.tenants(&actor).await else {
                    continue;
                };
                for t in tenants {
                    let Ok(id) = TenantId::new(t.id.as_str()) else {
                        tracing::error!("a stored tenant id is malformed");
                        continue;
                    };
                    match engine.sweep_requests(&actor, &id).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(tenant = %t.id, denied = n, "unverifiable requests past their deadline denied")
                        }
                        Err(e) => {
                            tracing::warn!(tenant = %t.id, code = e.code(), "deadline sweep failed")
                        }
                    }
                }
            }
        })
    };
    let webhooks = crate::webhooks::spawn_worker(engine.clone(), &cfg)?;
    let retention = crate::retention::spawn_sweeper(engine.clone(), cfg.retention_interval);
    let connectors = crate::connection::spawn_runner(engine.clone());
    let checkpoints = crate::audit::spawn_checkpointer(engine.clone(), &cfg.audit)?;
    // Bind before announcing, so "listening" means connections are accepted.
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    listener.set_nonblocking(true)?;
    let stop = shutdown_signal().context("listening for signals")?;
    tracing::info!(%addr, database = %redact_url(&cfg.database_url), tls = tls.is_some(), "vow listening");
    outln!(
        "vow listening on {}://{addr}",
        if tls.is_some() { "https" } else { "http" }
    );
    // Over TLS, browsers are told to keep to HTTPS.
    let app = if tls.is_some() {
        vow_server::with_hsts(app)
    } else {
        app
    };
    crate::listen::serve(listener, app, tls, cfg.connections.clone(), stop)
        .await
        .context("serving connections")?;
    sweeper.abort();
    webhooks.abort();
    retention.abort();
    connectors.abort();
    // In-flight requests have finished: a last checkpoint of where the chain stopped,
    // then flush the audit writer and close the store.
    checkpoints.finish(&engine).await;
    engine.shutdown().await;
    tracing::info!("vow stopped");
    Ok(())
}

/// SIGTERM or SIGINT (Ctrl-C). Registered at once, before the server says it is
/// listening, so that a signal sent right after is not missed (nor kills the process
/// outright, the default for an unhandled SIGTERM).
fn shutdown_signal() -> Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = interrupt.recv() => {},
            }
            tracing::info!("shutting down: finishing in-flight requests");
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}
