//! Any bytes as a DOCX body (`word/document.xml` in a real zip), and any
//! bytes as the zip itself when they already are one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pith_core::documents::{extract, sample};

fuzz_target!(|data: &[u8]| {
    pith_fuzz::quiet_caught_panics();
    let docx = if data.starts_with(b"PK") {
        data.to_vec()
    } else {
        sample::zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", data),
        ])
    };
    let _ = extract(docx, &pith_fuzz::limits());
});
