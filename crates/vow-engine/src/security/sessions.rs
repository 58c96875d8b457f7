//! Console sessions (issue 10): an operator's API key, given once at sign-in, is
//! exchanged for a random session token that lives in an HttpOnly cookie. Only the
//! token's SHA-256 is stored, bound to the key's id; the key is re-read on every
//! request, so a revoked or expired key ends its sessions at once. Sessions end after
//! [`SESSION_ABSOLUTE_MS`] whatever happens, or [`SESSION_IDLE_MS`] unused.
//! Sign-ins are limited per address ([`SIGN_INS_PER_MINUTE`]).

use crate::error::{EngineError, Result};
use crate::vault::keys::Rejected;
use crate::{Actor, Engine};
use serde_json::json;
use vow_store::ConsoleSessionRow;

/// A session ends this long after sign-in (8 hours).
pub const SESSION_ABSOLUTE_MS: i64 = 8 * 3600 * 1000;
/// A session ends after this long unused (30 minutes).
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
pub use super::limit::SIGN_INS_PER_MINUTE;
/// A session's last use is written at most this often (one write a minute, not one
/// per page).
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// Why a sign-in was refused.
#[derive(Debug)]
pub enum SignInRefused {
    /// Too many attempts from this address this minute.
    Busy,
    /// The key was refused (what a security event records is in it).
    Key(Rejected),
}

/// A new session: its token (for the cookie only) and who it acts as.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub actor: Actor,
}

fn hash(token: &str) -> Vec<u8> {
    vow_crypto::sha256(token.as_bytes()).to_vec()
}

impl Engine {
    /// Exchange an API key for a console session. `source`: the client's address,
    /// for the per-address limit. The sign-in is audited under the key.
    pub async fn console_sign_in(
        &self,
        key: &str,
        source: &str,
    ) -> std::result::Result<SignedIn, SignInRefused> {
        if !self.sign_ins.admit(source) {
            return Err(SignInRefused::Busy);
        }
        let actor = self
            .authenticate_token(key)
            .await
            .map_err(SignInRefused::Key)?;
        let internal = |error: EngineError| {
            SignInRefused::Key(Rejected {
                failure: None,
                key_id: Some(actor.id().to_string()),
                error,
            })
        };
        let token = vow_crypto::random_token().map_err(|e| internal(e.into()))?;
        let now = self.now_ms();
        let row = ConsoleSessionRow {
            token_hash: hash(&token),
            key_id: actor.id().to_string(),
            created_at: now,
            last_seen: now,
            expires_at: now + SESSION_ABSOLUTE_MS,
        };
        let entry = self.audit_entry(
            &actor,
            actor.tenant.as_ref().map(|t| t.as_str()),
            "console.sign_in",
            None,
            None,
            json!({}),
        );
        let done: Result<()> = async {
            let mut tx = self.store.write().await?;
            tx.trim_console_sessions(now, now - SESSION_IDLE_MS).await?;
            tx.insert_console_session(&row).await?;
            self.chain.append(&mut tx, &[entry]).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        done.map_err(internal)?;
        Ok(SignedIn { token, actor })
    }

    /// The actor of a console session, re-checking its key; `Unauthenticated` (and the
    /// session forgotten) when the session or its key has ended.
    pub async fn console_session(&self, token: &str) -> Result<Actor> {
        let h = hash(token);
        let now = self.now_ms();
        let mut tx = self.store.write().await?;
        let Some(s) = tx.console_session(&h).await? else {
            return Err(EngineError::Unauthenticated);
        };
        let key = tx.api_key(&s.key_id).await?;
        let actor = match key.as_ref().map(|k| self.actor_of_key(k)) {
            Some(Ok(a)) if s.expires_at > now && s.last_seen > now - SESSION_IDLE_MS => a,
            _ => {
                tx.delete_console_session(&h).await?;
                tx.commit().await?;
                return Err(EngineError::Unauthenticated);
            }
        };
        if now - s.last_seen >= TOUCH_EVERY_MS {
            tx.touch_console_session(&h, now).await?;
            tx.commit().await?;
        }
        Ok(actor)
    }

    /// End a console session (sign-out). Ending one that is gone changes nothing.
    pub async fn console_sign_out(&self, token: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        tx.delete_console_session(&hash(token)).await?;
        tx.commit().await?;
        Ok(())
    }
}
