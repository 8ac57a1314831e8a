//! Records the demo village's households through a device and prints the assignments CSV.
//!
//!     cargo run -p cunji-tests --example demo_seed -- URL LOGIN PASSWORD ASSIGNEE COUNT
#![allow(clippy::print_stdout, clippy::print_stderr)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, login, password, assignee, count] = args.as_slice() else {
        eprintln!("usage: demo_seed URL LOGIN PASSWORD ASSIGNEE COUNT");
        std::process::exit(2);
    };
    let count: usize = count.parse().unwrap_or(12);
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("demo_seed: no temp dir: {e}");
            std::process::exit(1);
        }
    };
    match cunji_tests::demo::seed_households(url, login, password, assignee, count, dir.path()) {
        Ok(csv) => print!("{csv}"),
        Err(e) => {
            eprintln!("demo_seed: {e}");
            std::process::exit(1);
        }
    }
}
