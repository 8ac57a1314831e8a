//! What the benchmark programs share: their `--flag value` arguments, removing a database
//! file with its companions, and the process's peak RSS (Linux's VmHWM).
#![allow(dead_code)] // each program uses a part

use std::path::Path;

use anyhow::bail;

/// Reads the program's `--flag value` pairs and gives each to `set`, which returns `Ok(false)`
/// for a flag it does not know (then the program stops with "unknown argument").
pub fn each_flag(mut set: impl FnMut(&str, String) -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            bail!("{flag} needs a value");
        };
        if !set(&flag, value)? {
            bail!("unknown argument {flag}");
        }
    }
    Ok(())
}

/// Removes an SQLite file and its WAL, shared-memory and key files, if they exist.
pub fn remove_db(p: &Path) {
    for suffix in ["", "-wal", "-shm", ".key"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
}

/// Starts a new peak for VmHWM (Linux: writing 5 to clear_refs resets it).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// VmHWM of this process, in KiB (Linux; 0 where it cannot be read).
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
