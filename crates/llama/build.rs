//! Records which x86 SIMD extensions the linked llama.cpp needs, so Pith can
//! check the CPU *before* calling into llama.cpp (whose own start-up code
//! already uses them) and refuse with a message instead of crashing.
//!
//! - `target-cpu=native` (local builds): llama-cpp-sys-2 builds with
//!   GGML_NATIVE=ON, i.e. every extension of the build machine, which cargo
//!   reports in CARGO_CFG_TARGET_FEATURE.
//! - otherwise: ggml enables AVX, AVX2, BMI2, FMA and F16C by default when
//!   GGML_NATIVE is off, on top of whatever the Rust target enables.
const SIMD: &[&str] = &[
    "sse3",
    "ssse3",
    "sse4.1",
    "sse4.2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi2",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512vnni",
    "avx512vbmi",
    "avx512bf16",
    "avxvnni",
];

fn main() {
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let mut required: Vec<&str> = features.split(',').filter(|f| SIMD.contains(f)).collect();
    if arch == "x86_64" && !flags.contains("target-cpu=native") {
        required.extend(["avx", "avx2", "bmi2", "fma", "f16c"]);
    }
    required.sort_unstable();
    required.dedup();
    println!(
        "cargo:rustc-env=PITH_LLAMA_CPU_REQUIRES={}",
        required.join(",")
    );
}
