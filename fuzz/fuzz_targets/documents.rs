//! Any bytes, as a dropped file: PDF (with its preflight), DOCX, HTML, and
//! text in any encoding, recognised by content. Every input must give a
//! document or a clear error, within the limits, and never crash.
//! (Seeds, the hostile inputs among them: fuzz/seeds/documents.)
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pith_fuzz::quiet_caught_panics();
    let _ = pith_core::documents::extract(data.to_vec(), &pith_fuzz::limits());
});
