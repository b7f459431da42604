//! Any bytes as a text file: encoding detection and decoding (UTF-8,
//! UTF-16 by BOM or by its zeros, legacy encodings through chardetng),
//! Markdown headings and form-feed pages.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pith_fuzz::quiet_caught_panics();
    let _ = pith_core::documents::extract(data.to_vec(), &pith_fuzz::limits());
    let _ = pith_core::tasks::validate_bytes(data);
});
