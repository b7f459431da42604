//! Any bytes after an HTML doctype: html5ever and Pith's text walk.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pith_fuzz::quiet_caught_panics();
    let mut html = b"<!doctype html>".to_vec();
    html.extend_from_slice(data);
    let _ = pith_core::documents::extract(html, &pith_fuzz::limits());
});
