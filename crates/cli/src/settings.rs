//! Settings: one typed struct, passed in, never global. Defaults, then a
//! `homeward.toml` (`--config FILE`, or `homeward.toml` in the working
//! directory if present), then `HOMEWARD_*` variables and flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where homeward keeps its files: the SQLite database, and later keys.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; unset: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Address the server listens on.
    pub listen: SocketAddr,
    /// Log filter, e.g. `info` or `homeward=debug,info`.
    pub log: String,
    /// Witnesses of the shared log (homeward.toml only).
    pub witnesses: Vec<homeward_service::log::witnesses::WitnessTarget>,
    /// Send `Strict-Transport-Security` with every answer (behind HTTPS only).
    pub hsts: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log: "info".into(),
            witnesses: Vec::new(),
            hsts: false,
        }
    }
}

impl Settings {
    /// Reads the config file if there is one; overrides are applied by the caller.
    pub fn load(config: Option<&Path>) -> anyhow::Result<Self> {
        let (path, required) = match config {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("homeward.toml"), false),
        };
        if !path.exists() {
            anyhow::ensure!(!required, "config file {} does not exist", path.display());
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{}: invalid settings", path.display()))
    }

    /// The SQLite file, when no PostgreSQL URL is set.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("homeward.db")
    }
}

pub const EXAMPLE: &str = r#"# homeward.toml: every setting, with its default.
# Read from --config FILE, or from homeward.toml in the working directory.
# Each setting can also be given as a HOMEWARD_* variable or a flag,
# which win over this file (HOMEWARD_DATA_DIR, HOMEWARD_DATABASE_URL, ...).

# Where homeward keeps its files: the SQLite database (homeward.db), its
# access log (homeward-access.db), and its keys. Created by `homeward init`.
data_dir = "data"

# Use PostgreSQL instead of the SQLite file:
# database_url = "postgres://homeward@127.0.0.1:5432/homeward"

# Address the server listens on.
listen = "127.0.0.1:8080"

# Log filter (tracing EnvFilter syntax). Logs never contain personal data.
log = "info"

# Behind HTTPS (directly or through a TLS proxy): send
# `Strict-Transport-Security: max-age=31536000` with every answer, so that
# browsers use only HTTPS for this host for a year, and a network attacker
# cannot strip TLS from the next visit. Off by default: over plain HTTP it
# does nothing. Also HOMEWARD_HSTS=true or --hsts.
hsts = false

# Witnesses of the shared log (C2SP tlog-witness), run by each party and the
# mediator with `homeward witness serve`. Each new checkpoint is offered to
# every witness; it is published only once every `required` one cosigned it.
# [[witnesses]]
# name = "party-a"
# url = "http://witness.party-a.example:9101"
# key = "witness.party-a.example+1234abcd+BA..."   # from `homeward witness key`
# required = true
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        let s: Settings = toml::from_str(EXAMPLE).unwrap();
        let d = Settings::default();
        assert_eq!(
            (s.data_dir, s.database_url, s.listen, s.log, s.hsts),
            (d.data_dir, d.database_url, d.listen, d.log, d.hsts)
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Settings>("data_directory = \"x\"").is_err());
    }
}
