//! Any bytes as a model file: the GGUF header walk every file passes
//! before llama.cpp sees it must refuse what it cannot read, never crash
//! or allocate what a header merely claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pith_core::models::gguf::inspect_reader(std::io::Cursor::new(data), data.len() as u64);
});
