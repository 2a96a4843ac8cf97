use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (default from settings: 127.0.0.1:8080).
    #[arg(long, env = "HOMEWARD_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

pub async fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = backend::open(settings).await?;
    let addr = args.listen.unwrap_or(settings.listen);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("homeward is serving {} at http://{local}/", backend::describe(settings));
    homeward_web::serve(listener, homeward_web::AppState { store }).await?;
    Ok(ExitCode::SUCCESS)
}
