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
use cunji_sync_server::{AppState, serve, serve_metrics};

/// mimalloc instead of glibc malloc: the generator, ingest and reports allocate per change and
/// per cell across threads (see BENCHMARKS.md for the measured difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// List an account's devices (phones): id, registered, cut off.
    Devices { login: String },
    /// Cut one device off (a lost or stolen phone): its tokens die at once, it may not sign in
    /// or sync again; what it pushed before stays. The cadre signs in on a new phone.
    RevokeDevice { device_id: String },
    /// Check every change in the log against what proves its author (its device's signature,
    /// or the server's attestation; see the `verify` module docs). Exits non-zero and lists
    /// each change that does not verify.
    VerifyLog,
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
    /// Copy the SQLite database to a new file while the server runs (online backup API).
    /// PostgreSQL: use pg_dump (see the `backup` module docs).
    Backup {
        /// The new file to write; refused if it exists.
        #[arg(long)]
        to: PathBuf,
    },
    /// Ingest a handover bundle: the unsynced changes of a replaced cadre's device, checked
    /// as a push from that device (see the `handover` module docs).
    IngestHandover { file: PathBuf },
    /// Generate a synthetic city (DOMAIN §5) into an empty database, through the server's
    /// merge: accounts and devices for every cadre and supervisor, then their records.
    Generate {
        /// Share of seed 001's city: 1.0 = 1,650 villages, 227,500 households, 80,000 cadres.
        #[arg(long, default_value_t = 1.0, conflicts_with = "villages")]
        scale: f64,
        /// Generate this many villages instead (the first always has a work team).
        #[arg(long)]
        villages: Option<usize>,
        /// Random seed: the same seed gives the same data, byte for byte.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Worker threads that build documents (default: the machine's cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Give the demo accounts (demo-secretary, demo-member, demo-pairing, demo-township,
        /// demo-county, demo-org, demo-city) this password so the app can sign in with them.
        #[arg(long, env = "CUNJI_DEMO_PASSWORD")]
        demo_password: Option<String>,
        /// Only the registers a county keeps (households, numbers, cadres, teams,
        /// assignments, entitlements), none of the year's work: files to import.
        #[arg(long)]
        registers_only: bool,
    },
    /// Import a county's registers (units, cadres, teams, policy catalog, households with
    /// members and incomes, assignments, entitlements) from .xlsx and .csv files, checked
    /// row by row; a dry run unless `--commit` (see the `import` module docs). Exits non-zero
    /// when a file has problems (listed, nothing written).
    Import {
        /// The files (.xlsx with a sheet per kind, or .csv, UTF-8 or GB18030).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The administrator account the records are authored by.
        #[arg(long = "as", default_value = "admin")]
        author: String,
        /// Write the changes (without it: a dry run that writes nothing).
        #[arg(long)]
        commit: bool,
        /// Print the whole report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write the .xlsx template of an import: households, cadres, teams, assignments,
    /// policy_items, entitlements or county (every sheet).
    Template {
        kind: String,
        /// The file to write; must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the stored register as an .xlsx in the import's layout (the template kinds), as
    /// the account `--as` reads it (masked where it reads masked): importing it unchanged
    /// changes nothing.
    ExportRegister {
        kind: String,
        #[arg(long = "as", default_value = "admin")]
        author: String,
        /// The file to write; must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create an account for every cadre record without one (after an import: the 干部编号 is
    /// the login), with its role and a first password, and write the logins, names, roles and
    /// passwords to a new CSV to hand out (see `import::accounts`). Existing accounts are left
    /// as they are.
    CadreAccounts {
        /// Only the cadres who work in this county (6 digits).
        #[arg(long)]
        county: Option<String>,
        /// The CSV of first passwords to write; must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import pairing assignments (结对帮扶) from a CSV.
    ImportAssignments {
        csv: PathBuf,
        #[arg(long = "as", default_value = "admin")]
        author: String,
    },
    /// Refill every projection table from the stored documents (after an upgrade that changed
    /// a projection declaration; PostgreSQL recreates such tables empty).
    RebuildProjections,
    /// Move ID and bank numbers out of households stored before they had a record of their
    /// own, rebuilding those households' histories (see the `rebuild` module docs). `serve`
    /// does this before it listens; it runs once per database.
    SplitHouseholdNumbers,
    /// Export a scope's projection tables to a new SQLite file or, for `.xlsx`, a workbook
    /// (ID numbers, health data and home coordinates masked for county and city scopes).
    Export {
        /// village:<12 digits>, township:<9>, county:<6> or city:<4>.
        #[arg(long)]
        scope: cunji_sync_server::reports::ReportScope,
        /// The file to write (.sqlite3, .sqlite, .db or .xlsx); must not exist yet.
        #[arg(long)]
        out: PathBuf,
        /// With `--to`: only the visits, check-ins, work logs, deliveries, petitions,
        /// inspections and leave dated from this day (YYYY-MM-DD) to `--to`, both included;
        /// registers and reference data come whole.
        #[arg(long, requires = "to")]
        from: Option<cunji_core::values::Date>,
        /// The period's last day (YYYY-MM-DD), with `--from`.
        #[arg(long, requires = "from")]
        to: Option<cunji_core::values::Date>,
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
            let db = open_db(&config)?;
            split_household_numbers(&db)?;
            let handle =
                metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&config.listen)
                    .await
                    .with_context(|| format!("listening on {}", config.listen))?;
                tracing::info!(addr = %listener.local_addr()?, backend = db.backend(), https, "serving");
                let metrics_listen = config.metrics_listen.clone();
                let state = AppState::new(db, config).with_metrics(handle);
                // Ctrl-C stops both listeners.
                let (stop, stopped) = tokio::sync::watch::channel(false);
                let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
                    let _ = rx.wait_for(|s| *s).await;
                };
                let metrics = match metrics_listen {
                    Some(addr) => {
                        let l = tokio::net::TcpListener::bind(&addr)
                            .await
                            .with_context(|| format!("listening on {addr} for metrics"))?;
                        tracing::info!(addr = %l.local_addr()?, "serving /metrics");
                        Some(tokio::spawn(serve_metrics(
                            l,
                            state.clone(),
                            until_stopped(stopped.clone()),
                        )))
                    }
                    None => None,
                };
                tokio::spawn(async move {
                    let _ = tokio::signal::ctrl_c().await;
                    let _ = stop.send(true);
                });
                serve(listener, state, until_stopped(stopped)).await?;
                if let Some(m) = metrics {
                    m.await??;
                }
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
            let db = open_db(&config)?;
            db.write(|tx| {
                accounts::upsert_account(tx, &login, &name, role, &division, &password)
                    .map_err(anyhow::Error::msg)
            })?;
            tracing::info!(login, %role, "account saved");
            Ok(())
        }
        Command::ImportAccounts { csv } => {
            let db = open_db(&config)?;
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
        Command::Import {
            files,
            author,
            commit,
            json,
        } => import_files(&config, &files, &author, commit, json),
        Command::Template { kind, out } => {
            use cunji_sync_server::import::template::{TemplateKind, template};
            let Some(k) = TemplateKind::from_code(&kind) else {
                anyhow::bail!(
                    "unknown template `{kind}` (one of {})",
                    TemplateKind::CODES.join(", ")
                );
            };
            let bytes = template(k)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            std::io::Write::write_all(&mut file, &bytes)?;
            tracing::info!(file = %out.display(), kind, "template written");
            Ok(())
        }
        Command::CadreAccounts { county, out } => {
            if let Some(c) = &county
                && (c.len() != 6 || !c.bytes().all(|b| b.is_ascii_digit()))
            {
                anyhow::bail!("--county {c}: a county code is 6 digits");
            }
            let db = open_db(&config)?;
            let made = cunji_sync_server::import::accounts::create(&db, county.as_deref(), &out)?;
            #[allow(clippy::print_stdout)]
            if made.accounts.is_empty() {
                println!(
                    "没有需要新建的账号:{} 名干部已有账号 / no account to create: {} cadres have one",
                    made.existing, made.existing
                );
            } else {
                println!(
                    "新建 {} 个干部账号,初始密码见 {}(请妥善保管并分发给本人);{} 名干部已有账号 / created {} cadre accounts, first passwords in {}; {} cadres already had one",
                    made.accounts.len(),
                    out.display(),
                    made.existing,
                    made.accounts.len(),
                    out.display(),
                    made.existing
                );
            }
            Ok(())
        }
        Command::ExportRegister { kind, author, out } => {
            use cunji_sync_server::accounts::Principal;
            use cunji_sync_server::import::export::export;
            use cunji_sync_server::import::template::{TemplateKind, workbook};
            let Some(k) = TemplateKind::from_code(&kind) else {
                anyhow::bail!(
                    "unknown kind `{kind}` (one of {})",
                    TemplateKind::CODES.join(", ")
                );
            };
            let db = open_db(&config)?;
            let sheets = db.read(|tx| {
                let account = tx
                    .account(&author)?
                    .ok_or_else(|| anyhow::anyhow!("no account `{author}`"))?;
                Ok::<_, anyhow::Error>(export(tx, &Principal::web(account), k)?)
            })?;
            let bytes = workbook(&sheets)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            std::io::Write::write_all(&mut file, &bytes)?;
            let rows: usize = sheets.iter().map(|(_, r)| r.len()).sum();
            tracing::info!(file = %out.display(), kind, rows, "register written");
            Ok(())
        }
        Command::Backup { to } => {
            let report = cunji_sync_server::backup::backup_sqlite(&config.database, &to)?;
            tracing::info!(
                file = %report.path.display(),
                bytes = report.bytes,
                max_seq = report.max_seq,
                "backup written and checked"
            );
            Ok(())
        }
        Command::IngestHandover { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let db = open_db(&config)?;
            let report =
                cunji_sync_server::handover::ingest_bundle(&db, &bytes, config.max_decoded_bytes)
                    .with_context(|| format!("ingesting {}", file.display()))?;
            for (hash, code, message) in &report.rejected {
                tracing::warn!(hash, code, message, "change refused");
            }
            tracing::info!(
                device = report.device_id,
                login = report.login,
                accepted = report.accepted,
                duplicate = report.duplicate,
                held = report.held,
                rejected = report.rejected.len(),
                "handover ingested"
            );
            if report.rejected.is_empty() {
                Ok(())
            } else {
                anyhow::bail!(
                    "{} changes were refused (logged above)",
                    report.rejected.len()
                )
            }
        }
        Command::SplitHouseholdNumbers => {
            let db = open_db(&config)?;
            let report = cunji_sync_server::rebuild::rebuild_households_with_numbers(&db)?;
            log_rebuild(&report);
            Ok(())
        }
        Command::RebuildProjections => {
            let db = open_db(&config)?;
            let n =
                cunji_sync_server::merge::rebuild_projections(&db, cunji_core::domain::Kind::ALL)?;
            tracing::info!(records = n, "projections rebuilt");
            Ok(())
        }
        Command::Export {
            scope,
            out,
            from,
            to,
        } => {
            let db = open_db(&config)?;
            let period = from
                .zip(to)
                .map(|(from, to)| cunji_core::reports::DateRange { from, to });
            let report = match period {
                Some(p) => {
                    cunji_sync_server::reports::supervise::export_period(&db, &scope, p, &out)
                }
                None => cunji_sync_server::reports::supervise::export(&db, &scope, &out),
            }
            .with_context(|| format!("exporting {scope} to {}", out.display()))?;
            let rows: usize = report.tables.values().sum();
            tracing::info!(%scope, file = %out.display(), rows, "exported");
            Ok(())
        }
        Command::Generate {
            scale,
            villages,
            seed,
            threads,
            demo_password,
            registers_only,
        } => generate(
            &config,
            scale,
            villages,
            seed,
            threads,
            demo_password,
            registers_only,
        ),
        Command::Revoke { login } => {
            let db = open_db(&config)?;
            let n = db.write(|tx| tx.revoke_tokens(&login).map_err(anyhow::Error::from))?;
            tracing::info!(login, tokens = n, "revoked");
            Ok(())
        }
        Command::Devices { login } => {
            let db = open_db(&config)?;
            let devices = db.read(|tx| tx.devices_of(&login).map_err(anyhow::Error::from))?;
            if devices.is_empty() {
                anyhow::bail!("{login} has no device registered (or there is no such account)");
            }
            #[allow(clippy::print_stdout)]
            for d in devices {
                println!(
                    "{}\tregistered {}\t{}",
                    d.device_id,
                    d.registered_ts,
                    d.revoked_ts
                        .map_or("active".to_string(), |ts| format!("cut off {ts}"))
                );
            }
            Ok(())
        }
        Command::VerifyLog => {
            let db = open_db(&config)?;
            let started = std::time::Instant::now();
            let report = cunji_sync_server::verify::verify_log(&db, &mut |n| {
                if n % 100_000 < 2_000 {
                    tracing::info!(changes = n, "verifying");
                }
            })?;
            #[allow(clippy::print_stdout)]
            for f in &report.failures {
                println!(
                    "seq {}	record {}	device {}	{}",
                    f.seq, f.doc_id, f.device_id, f.reason
                );
            }
            tracing::info!(
                changes = report.changes,
                device_signed = report.device_signed,
                attested = report.attested,
                failures = report.failures.len(),
                server_key = %report.server_key,
                seconds = started.elapsed().as_secs_f64(),
                "log verified"
            );
            if !report.ok() {
                anyhow::bail!(
                    "{} of {} changes do not prove their author (listed above)",
                    report.failures.len(),
                    report.changes
                );
            }
            Ok(())
        }
        Command::RevokeDevice { device_id } => {
            let db = open_db(&config)?;
            let now = chrono::Utc::now().to_rfc3339();
            let found = db.write(|tx| {
                let Some(device) = tx.device(&device_id)? else {
                    return Ok::<_, anyhow::Error>(None);
                };
                let newly = tx.revoke_device(&device_id, &now)?;
                Ok(Some((device.login, newly)))
            })?;
            match found {
                None => anyhow::bail!("no device {device_id} on this server"),
                Some((login, true)) => tracing::info!(device_id, login, "device cut off"),
                Some((login, false)) => {
                    tracing::info!(device_id, login, "device was already cut off")
                }
            }
            Ok(())
        }
    }
}

/// Opens the configured database with the server's key ([`Config::server_key`], or the file
/// beside the database).
fn open_db(config: &Config) -> anyhow::Result<Db> {
    let path = config.server_key.as_ref().map_or_else(
        || cunji_sync_server::store::key::default_key_path(&config.database),
        PathBuf::from,
    );
    let key = cunji_sync_server::store::key::load_or_create(&path)
        .with_context(|| format!("reading the server's key {}", path.display()))?;
    Db::open_with_key(&config.database, key)
        .with_context(|| format!("opening the database ({config:?})"))
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
    let db = open_db(config)?;
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
    tracing::info!(created = report.created, updated = report.updated, skipped = report.skipped, file = %csv.display(), "imported");
    Ok(())
}

/// Runs an import of the county's registers as the administrator `author`: the report on
/// stdout (problems one a line, then the counts per kind), non-zero when there are problems.
fn import_files(
    config: &Config,
    files: &[PathBuf],
    author: &str,
    commit: bool,
    json: bool,
) -> anyhow::Result<()> {
    use cunji_sync_server::import::{self, InputFile};
    let mut inputs = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        inputs.push(InputFile {
            name: f.display().to_string(),
            bytes,
        });
    }
    let db = open_db(config)?;
    let account = db.read(|tx| tx.account(author).map_err(anyhow::Error::from))?;
    match account {
        None => anyhow::bail!(
            "no account `{author}`: give the administrator's login with --as (a generated city's is gen-admin)"
        ),
        Some(a) if a.role != Role::Admin => anyhow::bail!(
            "`{author}` is a {} account, not an administrator (the county poverty office imports on the dashboard)",
            a.role.code()
        ),
        Some(_) => {}
    }
    let report = import::import(&db, author, &inputs, commit)?;
    #[allow(clippy::print_stdout)]
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for p in &report.problems {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{} / {}",
                p.file,
                p.sheet,
                p.row,
                p.column.as_deref().unwrap_or(""),
                p.value.as_deref().unwrap_or(""),
                p.code,
                p.message,
                p.message_en
            );
        }
        for k in &report.kinds {
            println!(
                "{} ({}): new {}, changed {}, unchanged {}, refused {}, missing {}",
                k.label, k.kind, k.new, k.changed, k.unchanged, k.refused, k.missing
            );
        }
    }
    if !report.ok() {
        anyhow::bail!(
            "{} problems (listed above): nothing was written",
            report.problems.len()
        );
    }
    tracing::info!(
        committed = report.committed,
        changes = report.changes,
        "import {}",
        if report.committed {
            "committed"
        } else {
            "checked (dry run: nothing written; --commit writes it)"
        }
    );
    Ok(())
}

/// Runs the generator with progress on stderr.
fn generate(
    config: &Config,
    scale: f64,
    villages: Option<usize>,
    seed: u64,
    threads: Option<usize>,
    demo_password: Option<String>,
    registers_only: bool,
) -> anyhow::Result<()> {
    use cunji_sync_server::generate::{self, Options, city::City};
    if !(scale > 0.0 && scale <= 1.0) {
        anyhow::bail!("--scale must be above 0 and at most 1 (1.0 = the whole city)");
    }
    let db =
        open_db(config).with_context(|| format!("opening the database {}", config.database))?;
    let options = Options {
        seed,
        villages: villages.unwrap_or_else(|| City::villages_for_scale(scale)),
        threads: threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        }),
        demo_password,
        registers_only,
    };
    #[allow(clippy::print_stderr)]
    let report = generate::generate(&db, &options, &mut |p| {
        let step = (p.chunks_total / 100).max(1);
        if p.chunks_done % step == 0 || p.chunks_done == p.chunks_total {
            eprintln!(
                "generate: {}/{} villages, {} changes, {:.0} s, {:.0} changes/s",
                p.chunks_done.saturating_sub(1),
                p.chunks_total - 1,
                p.changes,
                p.elapsed_s,
                p.changes as f64 / p.elapsed_s.max(1e-9)
            );
        }
    })?;
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "generated {} villages ({} with a team), {} households, {} cadres, {} accounts",
            report.villages,
            report.team_villages,
            report.households,
            report.cadres,
            report.accounts
        );
        for (kind, n) in &report.records {
            eprintln!("  {kind:<14} {n:>10}");
        }
        eprintln!(
            "{} records, {} changes in {:.1} s = {:.0} changes/s; refused as planned: {:?}",
            report.total_records(),
            report.changes,
            report.seconds,
            report.changes as f64 / report.seconds.max(1e-9),
            report.refused
        );
    }
    if report.unexpected > 0 {
        anyhow::bail!(
            "{} changes had an outcome the plan did not expect, e.g. {:?}",
            report.unexpected,
            report.unexpected_samples
        );
    }
    Ok(())
}

/// Runs the household numbers migration (once per database) and logs what it did.
fn split_household_numbers(db: &Db) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let report = cunji_sync_server::rebuild::split_household_numbers(db)
        .context("moving ID and bank numbers out of households")?;
    if !report.already_done {
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "numbers migration done"
        );
        log_rebuild(&report);
    }
    Ok(())
}

fn log_rebuild(report: &cunji_sync_server::rebuild::RebuildReport) {
    tracing::info!(
        read = report.households_read,
        rebuilt = report.households_rebuilt,
        numbers_created = report.numbers_created,
        numbers_completed = report.numbers_completed,
        left_out = report.numbers_left_out.len(),
        "households whose history held ID or bank numbers rebuilt without them"
    );
    for (household, field, message) in &report.numbers_left_out {
        tracing::warn!(
            household,
            field,
            message,
            "a number that does not validate was left out (kept in the old history)"
        );
    }
}
