#![allow(clippy::unwrap_used, clippy::print_stdout)]
use cunji_core::{Author, Store, domain::Visit};
fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("p.sqlite3")).unwrap();
    let a = Author::at("c", "r", "2016-03-01T09:00:00+08:00".parse().unwrap());
    let v = Visit::example();
    let n: usize = std::env::args()
        .nth(1)
        .map(|x| x.parse().unwrap())
        .unwrap_or(300);
    let t = std::time::Instant::now();
    for _ in 0..n {
        s.create(&a, &v).unwrap();
    }
    println!("{:?}", t.elapsed() / n as u32);
}
