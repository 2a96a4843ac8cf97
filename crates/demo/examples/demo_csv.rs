//! Writes the demo person-import CSV to stdout:
//! `cargo run --release -p homeward-demo --example demo_csv -- [count] [seed] > persons.csv`

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let count = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let persons = homeward_demo::demo_persons(seed, count);
    homeward_demo::write_csv(persons, std::io::stdout().lock())?;
    Ok(())
}
