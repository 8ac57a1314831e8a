//! Seeded randomness for the generator: one stream per village (and one for the city), so
//! that villages can be generated on any thread in any order and still give the same bytes.
//!
//! The distributions the generator needs (normal, lognormal, gamma, Poisson, weighted
//! choice) are written here in a few lines each rather than pulling in `rand_distr`.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use cunji_core::values::{Date, Timestamp};

/// SplitMix64: mixes a seed and a stream number into an independent seed.
pub fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded random stream with the helpers the generator uses.
#[derive(Debug)]
pub struct Rand(StdRng);

impl Rand {
    pub fn new(seed: u64, stream: u64) -> Rand {
        Rand(StdRng::seed_from_u64(mix(seed, stream)))
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.r#gen::<f64>() < p
    }

    /// Uniform in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        self.0.gen_range(lo..=hi)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.0.gen_range(0..n)
    }

    pub fn unit(&mut self) -> f64 {
        self.0.r#gen::<f64>()
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        // Box–Muller.
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Lognormal with the given median and log-space standard deviation.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * self.normal(0.0, sigma).exp()
    }

    /// Gamma with shape `k` and mean `mean` (Marsaglia–Tsang, k ≥ 1).
    pub fn gamma(&mut self, k: f64, mean: f64) -> f64 {
        let theta = mean / k;
        let d = k - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal(0.0, 1.0);
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.unit();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v * theta;
            }
        }
    }

    /// Poisson with mean `lambda` (Knuth below 30, a rounded normal above).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return self.normal(lambda, lambda.sqrt()).round().max(0.0) as u64;
        }
        let l = (-lambda).exp();
        let mut k = 0;
        let mut p = 1.0;
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// One of `items`, drawn with weights (the second element of each pair).
    pub fn pick<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let w: Vec<f64> = items.iter().map(|(_, w)| *w).collect();
        items[self.weighted(&w)].0
    }

    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.0.fill(&mut b[..]);
        b
    }

    /// A UUID v7 for a record made at `at`: time-ordered like the ids a device makes, its
    /// random part from this stream.
    pub fn uuid_at(&mut self, at: &Timestamp) -> String {
        let millis = at.timestamp_millis().max(0) as u64;
        uuid::Builder::from_unix_timestamp_millis(millis, &self.bytes::<10>())
            .into_uuid()
            .to_string()
    }

    /// 64 lower-case hex digits (a photo or signature hash).
    pub fn sha256_hex(&mut self) -> String {
        hex::encode(self.bytes::<32>())
    }

    /// A time of day between `from` and `to` hours, to the second.
    pub fn time_between(&mut self, from_h: f64, to_h: f64) -> NaiveTime {
        let secs = (self.uniform(from_h, to_h) * 3600.0) as u32;
        NaiveTime::from_num_seconds_from_midnight_opt(secs.min(86_399), 0).unwrap_or_default()
    }

    pub fn day_between(&mut self, from: Date, to: Date) -> Date {
        let span = (to - from).num_days().max(0);
        from + Duration::days(self.int(0, span))
    }
}

/// China Standard Time, the zone every generated device runs in.
pub fn cst() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Local time on `date` in China Standard Time.
pub fn at(date: Date, time: NaiveTime) -> Timestamp {
    cst()
        .from_local_datetime(&date.and_time(time))
        .single()
        .unwrap_or_else(|| cst().from_utc_datetime(&date.and_time(time)))
}

/// A date from its parts; callers pass constants and computed days that exist.
pub fn ymd(y: i32, m: u32, d: u32) -> Date {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn streams_repeat_and_differ() {
        let a: Vec<i64> = (0..5).map(|_| Rand::new(7, 1).int(0, 1000)).collect();
        let mut r = Rand::new(7, 1);
        let b: Vec<i64> = (0..5).map(|_| r.int(0, 1000)).collect();
        let mut r2 = Rand::new(7, 1);
        let c: Vec<i64> = (0..5).map(|_| r2.int(0, 1000)).collect();
        assert_eq!(b, c);
        assert_eq!(a[0], b[0]);
        let mut other = Rand::new(7, 2);
        let d: Vec<i64> = (0..5).map(|_| other.int(0, 1000)).collect();
        assert_ne!(b, d);
    }

    #[test]
    fn distributions_have_their_means() {
        let mut r = Rand::new(1, 1);
        let n = 20_000;
        let g: f64 = (0..n).map(|_| r.gamma(8.0, 45.0)).sum::<f64>() / n as f64;
        assert!((g - 45.0).abs() < 1.0, "gamma mean {g}");
        let p: f64 = (0..n).map(|_| r.poisson(3.5) as f64).sum::<f64>() / n as f64;
        assert!((p - 3.5).abs() < 0.1, "poisson mean {p}");
        let mut ln: Vec<f64> = (0..n).map(|_| r.lognormal(2855.0, 0.35)).collect();
        ln.sort_by(f64::total_cmp);
        let median = ln[n / 2];
        assert!((median - 2855.0).abs() < 60.0, "lognormal median {median}");
        let w = (0..n)
            .filter(|_| r.weighted(&[0.7, 0.25, 0.05]) == 1)
            .count();
        assert!((w as f64 / n as f64 - 0.25).abs() < 0.02);
    }
}
