use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use homeward_service::log::witnesses::Witnesses;
use homeward_service::log::{keys, reveal, sequence_and_publish, verify};
use homeward_store::Store;
use homeward_tlog::{Signer, Verifier};

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Recompute the log from the database and report every difference.
    #[command(
        after_help = "Examples:\n  homeward log verify\n  homeward log verify --against checkpoint-2026-06-19.txt\n  \
                            homeward log verify --json > report.json"
    )]
    Verify {
        /// A checkpoint saved earlier (e.g. by an auditor): the log must still
        /// contain exactly the history it signed.
        #[arg(long, value_name = "FILE")]
        against: Option<PathBuf>,
        /// The latest checkpoint must carry a valid cosignature of every
        /// witness marked `required` in the settings.
        #[arg(long)]
        require_cosignatures: bool,
        /// Do not ask the configured witnesses what they cosigned (without
        /// them, leaves deleted together with the checkpoints above them
        /// cannot be detected).
        #[arg(long)]
        no_witnesses: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the log's verifier key (C2SP signed-note form) for auditors and witnesses.
    #[command(after_help = "Examples:\n  homeward log public-key > homeward-log.vkey")]
    PublicKey,
    /// Integrate waiting entries and sign a checkpoint now (the server does this continuously).
    #[command(after_help = "Examples:\n  homeward log sequence")]
    Sequence,
    /// Print the latest signed checkpoint.
    #[command(after_help = "Examples:\n  homeward log checkpoint > checkpoint-$(date +%F).txt")]
    Checkpoint,
    /// Export a record's reveal bundle: its content, salt, leaf, inclusion proof and checkpoint.
    #[command(
        after_help = "Examples:\n  homeward log reveal person/0190c6e2-7d1a-7cc0-9a4e-2f1c3b5d6e7f/status/2 --out reveal.json\n  \
                            homeward log reveal identity/0190c6e2-0000-7000-8000-000000000000\n\n\
                            Only for someone entitled to see the record: the bundle holds its content."
    )]
    Reveal {
        /// The record's id as in the log: conflict, identity/ID or person/ID/status/SEQ.
        record: String,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check a reveal bundle against the log's public key; needs no database.
    #[command(after_help = "Examples:\n  homeward log check-reveal reveal.json --key \"$(cat homeward-log.vkey)\"")]
    CheckReveal {
        file: PathBuf,
        /// The log's verifier key (default: the key of the local data folder).
        #[arg(long, value_name = "VKEY")]
        key: Option<String>,
        /// A witness's verifier key whose cosignature the bundle's checkpoint
        /// must carry (repeat for each party's witness).
        #[arg(long, value_name = "VKEY")]
        witness_key: Vec<String>,
    },
}

/// The log key of this data folder. Only `homeward init` (and `demo`, which
/// sets up a deployment) makes one: any other command finding none refuses,
/// since a key made silently would sign checkpoints no auditor's saved key
/// verifies, and would hide that the real one was lost.
pub fn signer(settings: &Settings) -> anyhow::Result<Signer> {
    keys::load(&settings.data_dir)?.with_context(|| {
        format!(
            "there is no log signing key {}: run `homeward init` for a new deployment, \
             or restore the file from your backup",
            keys::key_path(&settings.data_dir).display()
        )
    })
}

/// The log key, made now if the data folder has none, unless the database
/// already holds signed checkpoints (which only the lost key made).
pub async fn create_signer(store: &dyn Store, settings: &Settings) -> anyhow::Result<Signer> {
    if let Some(signer) = keys::load(&settings.data_dir)? {
        return Ok(signer);
    }
    if let Some(cp) = store.latest_checkpoint().await? {
        anyhow::bail!(
            "there is no log signing key {}, and the log holds checkpoints signed with one (the latest for {} leaves): \
             restore the file from your backup",
            keys::key_path(&settings.data_dir).display(),
            cp.size
        );
    }
    let (signer, created) = keys::load_or_create(&settings.data_dir, &keys::new_origin())?;
    if created {
        eprintln!(
            "created the log signing key {} (origin {})",
            keys::key_path(&settings.data_dir).display(),
            signer.name()
        );
    }
    Ok(signer)
}

/// The configured witnesses, if any.
pub fn witnesses(settings: &Settings) -> anyhow::Result<Option<std::sync::Arc<Witnesses>>> {
    if settings.witnesses.is_empty() {
        return Ok(None);
    }
    Ok(Some(std::sync::Arc::new(Witnesses::new(&settings.witnesses)?)))
}

/// After a command's writes: integrate them and sign a checkpoint (offered
/// to the witnesses), so that every change made on the command line is
/// published at once.
pub async fn publish(store: &dyn Store, settings: &Settings) -> anyhow::Result<()> {
    let signer = signer(settings)?;
    let witnesses = witnesses(settings)?;
    sequence_and_publish(store, &signer, witnesses.as_deref()).await.context("cannot sequence the log")?;
    Ok(())
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::CheckReveal { file, key, witness_key } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let bundle: reveal::RevealBundle =
                serde_json::from_str(&text).with_context(|| format!("{}: not a reveal bundle", file.display()))?;
            let key = match key {
                Some(k) => Verifier::parse(k.trim()).map_err(|e| anyhow::anyhow!("--key: {e}"))?,
                None => keys::load(&settings.data_dir)?
                    .context("no --key given and no log key in the data folder")?
                    .verifier(),
            };
            let witnesses = witness_key
                .iter()
                .map(|k| Verifier::parse(k.trim()).map_err(|e| anyhow::anyhow!("--witness-key: {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            match reveal::check_cosigned(&bundle, &key, &witnesses) {
                Ok(c) => {
                    println!(
                        "valid: record {} was logged as leaf {} at {} ms since the epoch, in the signed tree of {} leaves",
                        c.record_id, c.leaf_index, c.time_ms, c.checkpoint_size
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{}: NOT VALID: {e}", file.display());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::PublicKey => {
            println!("{}", signer(settings)?.verifier().to_key_string());
            Ok(ExitCode::SUCCESS)
        }
        command => {
            let store = backend::open(settings).await?;
            let signer = signer(settings)?;
            let witnesses = witnesses(settings)?;
            let publish = || sequence_and_publish(store.as_ref(), &signer, witnesses.as_deref());
            match command {
                Command::Sequence => {
                    let (head, signed) = publish().await?;
                    println!("{} leaves{}", head.size, if signed { "; checkpoint signed" } else { "" });
                }
                Command::Checkpoint => {
                    publish().await?;
                    let cp = store.latest_checkpoint().await?.context("the log is empty")?;
                    print!("{}", cp.note);
                }
                Command::Reveal { record, out } => {
                    publish().await?;
                    let bundle = reveal::reveal(store.as_ref(), &record).await?;
                    let json = serde_json::to_string_pretty(&bundle)?;
                    match out {
                        Some(path) => std::fs::write(&path, json + "\n")
                            .with_context(|| format!("cannot write {}", path.display()))?,
                        None => println!("{json}"),
                    }
                }
                Command::Verify { against, json, require_cosignatures, no_witnesses } => {
                    let against = against
                        .map(|p| std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display())))
                        .transpose()?;
                    if require_cosignatures && witnesses.is_none() {
                        anyhow::bail!(
                            "--require-cosignatures: no witnesses are configured (`[[witnesses]]` in homeward.toml)"
                        );
                    }
                    let options = verify::VerifyOptions {
                        against: against.as_deref(),
                        witnesses: witnesses.as_deref().filter(|_| !no_witnesses || require_cosignatures),
                        require_cosignatures,
                    };
                    let report = verify::verify(store.clone(), &signer.verifier(), options).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&report)?);
                    } else {
                        for p in &report.problems {
                            println!("DIFFERS: {}", p.message);
                        }
                        println!(
                            "{}: {} leaves, {} waiting, {} records, {} checkpoints checked, {} witnesses asked",
                            if report.ok() { "log verified" } else { "LOG DOES NOT VERIFY" },
                            report.leaves,
                            report.waiting,
                            report.records,
                            report.checkpoints,
                            report.witnesses
                        );
                    }
                    return Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
                }
                Command::PublicKey | Command::CheckReveal { .. } => unreachable!("handled above"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
