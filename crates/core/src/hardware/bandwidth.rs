//! Main-memory read bandwidth, measured. Token generation on a CPU reads
//! every weight once per token, so this number bounds generation speed.

use std::time::Instant;

/// Best of five passes of `threads` threads summing a 256 MiB buffer, in
/// GB/s. Takes about a tenth of a second and 256 MiB for that moment.
pub fn measure_memory_bandwidth(threads: usize) -> Option<f64> {
    const WORDS: usize = 32 << 20; // 256 MiB of u64
    let threads = threads.clamp(1, 64);
    let buffer: Vec<u64> = (0..WORDS as u64).collect();
    let chunk = WORDS.div_ceil(threads);
    let mut best: Option<f64> = None;
    for _ in 0..5 {
        let start = Instant::now();
        let total: u64 = std::thread::scope(|s| {
            let handles: Vec<_> = buffer
                .chunks(chunk)
                .map(|part| s.spawn(move || part.iter().fold(0u64, |a, &x| a.wrapping_add(x))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(0))
                .fold(0u64, u64::wrapping_add)
        });
        let secs = start.elapsed().as_secs_f64();
        std::hint::black_box(total);
        if secs > 0.0 {
            let gbs = (WORDS * 8) as f64 / secs / 1e9;
            best = Some(best.map_or(gbs, |b: f64| b.max(gbs)));
        }
    }
    best.map(|b| (b * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bandwidth_is_a_plausible_figure() {
        let gbs = super::measure_memory_bandwidth(2).expect("measured");
        // From old laptops (~5 GB/s) to servers (hundreds): never zero or absurd.
        assert!((0.5..2000.0).contains(&gbs), "{gbs} GB/s");
    }
}
