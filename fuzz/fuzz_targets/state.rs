//! Any bytes as a saved model state on disk, with any seal beside it:
//! only a file exactly as sealed may be handed to llama.cpp.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pith_core::engine::state::StateStore;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("pith-fuzz-state-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let store = StateStore::new(&dir);
    let path = store.path("conversation-1", "model");
    let (state, seal) = data.split_at(data.len() / 2);
    if std::fs::write(&path, state).is_err()
        || std::fs::write(path.with_extension("kv.check"), seal).is_err()
    {
        return;
    }
    // A seal made by the fuzzer itself never matches unless it is the real
    // one; the real one always does.
    let _ = store.verify(&path);
    assert!(store.seal(&path, &path));
    assert!(store.verify(&path));
});
