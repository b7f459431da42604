//! Records which CPU target this binary was built for, so `pith bench` can
//! say whether its figures come from the host-native or the portable build.
fn main() {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let target = if flags.contains("target-cpu=native") {
        "native"
    } else {
        "portable"
    };
    println!("cargo:rustc-env=PITH_CPU_TARGET={target}");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
}
