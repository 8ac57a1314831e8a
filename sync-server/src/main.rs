//! The `cunji-sync-server` binary: reads config, starts tracing, opens the store and serves;
//! admin subcommands create accounts and reference data.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cunji_sync_server::accounts::{self, Role};
use cunji_sync_server::config::Config;
use cunji_sync_server::records::{self, ImportError, ImportReport};
use cunji_sync_server::store::Db;
use cunji_sync_server::store::Tx;
use cunji_sync_server::{AppState, serve};

#[derive(Debug, Parser)]
#[command(name = "cunji-sync-server", about = "Cunji 村记 sync server")]
struct Cli {
    /// TOML config file (defaults, then this file, then CUNJI_* variables, then flags).
    #[arg(long, global = true, env = "CUNJI_CONFIG")]
    config: Option<PathBuf>,
    /// Database: a SQLite path or a postgres:// URL (overrides the config).
    #[arg(long, global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on (overrides the config).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Print the default configuration as TOML.
    PrintConfig,
    /// Create or replace an account.
    AddAccount {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// admin, first_secretary, team_member, pairing_cadre, township, county_office, county_org, city
        #[arg(long)]
        role: Role,
        /// Division code prefix for supervisors (township 9 digits, county 6, city 4).
        #[arg(long, default_value = "")]
        division: String,
        /// The password (or set CUNJI_PASSWORD).
        #[arg(long, env = "CUNJI_PASSWORD")]
        password: String,
    },
    /// Import accounts from a CSV with columns login,name,role,division,password.
    ImportAccounts { csv: PathBuf },
    /// Revoke every token of an account.
    Revoke { login: String },
    /// Import villages from a CSV (see the `records` module docs for the columns).
    ImportVillages {
        csv: PathBuf,
        /// The administrator account the records are authored by.
        #[arg(long = "as", default_value = "admin")]
        author: String,
    },
    /// Import village work teams from a CSV, one row per member.
    ImportTeams {
        csv: PathBuf,
        #[arg(long = "as", default_value = "admin")]
        author: String,
    },
    /// Import pairing assignments (结对帮扶) from a CSV.
    ImportAssignments {
        csv: PathBuf,
        #[arg(long = "as", default_value = "admin")]
        author: String,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(db) = cli.database {
        config.database = db;
    }
    match cli.command {
        Command::PrintConfig => {
            #[allow(clippy::print_stdout)]
            {
                println!("{}", toml::to_string_pretty(&Config::default())?);
            }
            Ok(())
        }
        Command::Serve { listen } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            // A bad certificate or key stops the server before it listens.
            let https = config.tls()?.is_some();
            let db = Db::open(&config.database)
                .with_context(|| format!("opening the database ({:?})", config))?;
            let handle =
                metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&config.listen)
                    .await
                    .with_context(|| format!("listening on {}", config.listen))?;
                tracing::info!(addr = %listener.local_addr()?, backend = db.backend(), https, "serving");
                let state = AppState::new(db, config).with_metrics(handle);
                serve(listener, state, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
                Ok(())
            })
        }
        Command::AddAccount {
            login,
            name,
            role,
            division,
            password,
        } => {
            let db = Db::open(&config.database)?;
            db.write(|tx| {
                accounts::upsert_account(tx, &login, &name, role, &division, &password)
                    .map_err(anyhow::Error::msg)
            })?;
            tracing::info!(login, %role, "account saved");
            Ok(())
        }
        Command::ImportAccounts { csv } => {
            let db = Db::open(&config.database)?;
            let mut reader = csv::Reader::from_path(&csv)
                .with_context(|| format!("reading {}", csv.display()))?;
            let mut rows = Vec::new();
            for (i, row) in reader.records().enumerate() {
                let row = row.with_context(|| format!("{} line {}", csv.display(), i + 2))?;
                let field = |n: usize| row.get(n).unwrap_or_default().trim().to_string();
                let role: Role = field(2)
                    .parse()
                    .map_err(|e| anyhow::anyhow!("line {}: {e}", i + 2))?;
                rows.push((field(0), field(1), role, field(3), field(4)));
            }
            let n = rows.len();
            db.write(|tx| {
                for (i, (login, name, role, division, password)) in rows.iter().enumerate() {
                    accounts::upsert_account(tx, login, name, *role, division, password)
                        .map_err(|e| anyhow::anyhow!("line {}: {e}", i + 2))?;
                }
                Ok::<_, anyhow::Error>(())
            })?;
            tracing::info!(accounts = n, "imported");
            Ok(())
        }
        Command::ImportVillages { csv, author } => {
            import(&config, &csv, &author, records::import_villages)
        }
        Command::ImportTeams { csv, author } => {
            import(&config, &csv, &author, records::import_teams)
        }
        Command::ImportAssignments { csv, author } => {
            import(&config, &csv, &author, records::import_assignments)
        }
        Command::Revoke { login } => {
            let db = Db::open(&config.database)?;
            let n = db.write(|tx| tx.revoke_tokens(&login).map_err(anyhow::Error::from))?;
            tracing::info!(login, tokens = n, "revoked");
            Ok(())
        }
    }
}

/// Runs one CSV import in one transaction: a bad row stores nothing of the file.
fn import(
    config: &Config,
    csv: &std::path::Path,
    author: &str,
    run: fn(&mut dyn Tx, &str, &str) -> Result<ImportReport, ImportError>,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(csv).with_context(|| format!("reading {}", csv.display()))?;
    let db = Db::open(&config.database)?;
    let report = db
        .write(|tx| {
            let account = tx.account(author)?;
            if account.is_none_or(|a| a.role != Role::Admin) {
                return Err(ImportError::Row {
                    line: 0,
                    message: format!("`{author}` is not an admin account"),
                });
            }
            run(tx, author, &text)
        })
        .with_context(|| format!("importing {}", csv.display()))?;
    tracing::info!(created = report.created, skipped = report.skipped, file = %csv.display(), "imported");
    Ok(())
}
