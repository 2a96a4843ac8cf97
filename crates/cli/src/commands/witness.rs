use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use homeward_tlog::{KeyType, Signer, Verifier};
use homeward_witness::{LogConfig, WitnessConfig};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a witness (C2SP tlog-witness): checks that the log only grows and cosigns its checkpoints.
    #[command(
        after_help = "Examples:\n  homeward witness serve --key party-a.wkey --state party-a-witness.json \\\n    \
                            --log-key \"$(homeward log public-key)\" --listen 0.0.0.0:9101\n\n\
                            Each party and the mediator run one, each with its own key and state file."
    )]
    Serve {
        /// The witness's private key file (from `homeward witness key`).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The witness's state file (created on first use; keep it: it is the witness's memory).
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
        /// The log's verifier key (`homeward log public-key`); repeat for several logs.
        #[arg(long = "log-key", value_name = "VKEY", required = true)]
        log_keys: Vec<String>,
        #[arg(long, default_value = "127.0.0.1:9101")]
        listen: SocketAddr,
    },
    /// Create a witness key (cosignature/v1) in a file readable only by its owner; prints the verifier key.
    #[command(after_help = "Examples:\n  homeward witness key --name witness.party-a.example --out party-a.wkey")]
    Key {
        /// The witness's name, as it appears in cosignature lines.
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Key { name, out } => {
            let signer = Signer::generate(&name, KeyType::CosignatureV1).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            write_private(&out, &format!("{}\n", signer.to_key_string()))?;
            println!("{}", signer.verifier().to_key_string());
        }
        Command::Serve { key, state, log_keys, listen } => {
            let text = std::fs::read_to_string(&key).with_context(|| format!("cannot read {}", key.display()))?;
            let signer = Signer::parse(text.trim())
                .map_err(|_| anyhow::anyhow!("{}: not a witness private key", key.display()))?;
            let mut logs: Vec<LogConfig> = Vec::new();
            for k in &log_keys {
                let v = Verifier::parse(k.trim()).map_err(|e| anyhow::anyhow!("--log-key: {e}"))?;
                match logs.iter_mut().find(|l| l.origin == v.name()) {
                    Some(l) => l.verifiers.push(v),
                    None => logs.push(LogConfig { origin: v.name().to_owned(), verifiers: vec![v] }),
                }
            }
            let verifier = signer.verifier().to_key_string();
            let config = WitnessConfig { signer, logs, state_path: state };
            let listener =
                tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
            println!("witness {verifier} listening at http://{}/", listener.local_addr()?);
            homeward_witness::serve_with_shutdown(config, listener, homeward_web::shutdown_signal()).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
