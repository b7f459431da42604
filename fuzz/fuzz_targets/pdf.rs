//! Any bytes after a PDF header: the preflight, lopdf and pdf-extract.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pith_fuzz::quiet_caught_panics();
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend_from_slice(data);
    let _ = pith_core::documents::extract(pdf, &pith_fuzz::limits());
});
