//! Where a database is. The URL carries the credentials, so a [`Target`] is never
//! printed as it is: [`Target::redacted`] is the form to show and log.

use crate::error::ConnectError;
use std::fmt;

/// The database engine behind a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Postgres,
    Mysql,
    Sqlite,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
            Kind::Sqlite => "sqlite",
        }
    }
}

/// A database's URL, checked. `Debug` shows the redacted form.
#[derive(Clone)]
pub struct Target {
    kind: Kind,
    url: String,
    redacted: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Target").field(&self.redacted).finish()
    }
}

impl Target {
    /// `postgres://`, `postgresql://`, `mysql://`, `mariadb://` (read as MySQL),
    /// `sqlite:PATH` or `sqlite://PATH` (`?mode=ro` and other options allowed).
    /// Errors say what is wrong without echoing the password.
    pub fn parse(url: &str) -> Result<Target, ConnectError> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(ConnectError::new(
                "bad_url",
                "a database URL starts with postgres://, mysql://, mariadb:// or sqlite:",
            ));
        };
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Kind::Postgres,
            "mysql" | "mariadb" => Kind::Mysql,
            "sqlite" => Kind::Sqlite,
            _ => {
                return Err(ConnectError::new(
                    "bad_url",
                    "unknown scheme: expected postgres, postgresql, mysql, mariadb or sqlite",
                ));
            }
        };
        if kind == Kind::Sqlite {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let file = path.split('?').next().unwrap_or("");
            if file.is_empty() {
                return Err(ConnectError::new(
                    "bad_url",
                    "a sqlite URL names a file: sqlite:PATH or sqlite://PATH",
                ));
            }
            return Ok(Target {
                kind,
                url: format!("sqlite://{path}"),
                redacted: format!("sqlite://{path}"),
            });
        }
        let parsed = url::Url::parse(url)
            .map_err(|e| ConnectError::new("bad_url", format!("not a valid database URL ({e})")))?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(ConnectError::new("bad_url", "the URL names no host"));
        }
        let database = parsed.path().trim_start_matches('/');
        if database.is_empty() || database.contains('/') {
            return Err(ConnectError::new(
                "bad_url",
                "the URL names one database after the host: scheme://user:password@host/database",
            ));
        }
        let mut shown = parsed.clone();
        if shown.password().is_some() && shown.set_password(Some("***")).is_err() {
            return Err(ConnectError::new(
                "bad_url",
                "the URL's credentials cannot be read",
            ));
        }
        // sqlx knows MariaDB as mysql://.
        let url = match kind {
            Kind::Mysql if scheme.eq_ignore_ascii_case("mariadb") => format!("mysql:{rest}"),
            _ => url.to_string(),
        };
        Ok(Target {
            kind,
            url,
            redacted: shown.to_string(),
        })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The full URL, credentials included: for sealing, never for showing.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        self.redacted.clone()
    }
}
