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
    /// homeward is reached over HTTPS (directly or behind a TLS proxy): mark
    /// the session cookie Secure and name it __Host-homeward.
    #[arg(long, env = "HOMEWARD_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

pub async fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let (store, accounts) = backend::open_with_accounts(settings).await?;
    let addr = args.listen.unwrap_or(settings.listen);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("homeward is serving {} at http://{local}/", backend::describe(settings));
    let auth = homeward_web::AuthSettings { secure_cookies: args.secure_cookies, ..Default::default() };
    homeward_web::serve(listener, homeward_web::AppState::new(store, accounts, auth)).await?;
    Ok(ExitCode::SUCCESS)
}
