//! Any body sent to the local API's chat completions: parsed, turned into
//! messages and into an engine request, or refused with a 400.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pith_server::openai;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = openai::parse(data) {
        if request.chat_messages().is_ok() {
            let _ = request.to_generate(data.len() % 5000, 4096);
        }
    }
});
