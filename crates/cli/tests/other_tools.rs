//! Models other tools keep, as `pith models` sees them: a file in a
//! Hugging Face cache under a made-up home is listed, matched to the
//! catalog by its checksum, usable where it is, and never removed.

mod common;

use common::{pith_env, stderr as err, stdout as out};

#[test]
fn a_model_in_the_hugging_face_cache_is_listed_and_used_where_it_is() {
    let data = tempfile::tempdir().expect("tmp");
    let home = tempfile::tempdir().expect("tmp");
    let sha = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
    let repo = home
        .path()
        .join(".cache/huggingface/hub/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF");
    std::fs::create_dir_all(repo.join("blobs")).expect("mkdir");
    std::fs::copy(
        "../../models/SmolLM2-135M-Instruct.Q4_1.gguf",
        repo.join("blobs").join(sha),
    )
    .expect("copy");
    let snapshot = repo.join("snapshots/main");
    std::fs::create_dir_all(&snapshot).expect("mkdir");
    std::os::unix::fs::symlink(
        repo.join("blobs").join(sha),
        snapshot.join("my-smollm2.gguf"),
    )
    .expect("link");
    let home_s = home.path().to_str().expect("utf-8");
    let o = pith_env(
        data.path(),
        &["models", "list", "--json"],
        b"",
        &[("HOME", home_s)],
    );
    assert!(o.status.success(), "{}", err(&o));
    let list: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    let found = list
        .as_array()
        .expect("list")
        .iter()
        .find(|m| m["id"] == "my-smollm2")
        .unwrap_or_else(|| panic!("the cached model is listed: {list}"));
    assert_eq!(
        found["found_in"],
        "the Hugging Face cache (HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/my-smollm2.gguf)"
    );
    assert!(
        found["catalog_id"].is_string(),
        "matched by its checksum: {found}"
    );
    // Usable as it is, and never removed by Pith.
    let o = pith_env(
        data.path(),
        &[
            "rephrase",
            "--model",
            found["path"].as_str().expect("path"),
            "-m",
            "proofread",
            "i has a apple",
        ],
        b"",
        &[("HOME", home_s)],
    );
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(3),
        "{}",
        err(&o)
    );
    let o = pith_env(
        data.path(),
        &["models", "rm", "my-smollm2"],
        b"",
        &[("HOME", home_s)],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("Pith only reads it"), "{}", err(&o));
    assert!(repo.join("blobs").join(sha).exists());
    assert!(
        std::path::Path::new("../../models/SmolLM2-135M-Instruct.Q4_1.gguf").exists(),
        "nothing else was removed either"
    );
}
