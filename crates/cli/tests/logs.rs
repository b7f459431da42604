//! The log a run leaves: a file a day in the data folder's `logs/`, with
//! what happened and none of the text the user gave, and the same events
//! on standard error with `--verbose`.

mod common;

use common::{pith_env, stderr};

#[test]
fn a_run_writes_the_days_log_without_the_users_text() {
    let data = tempfile::tempdir().expect("tmp");
    let secret = "the zebra codeword is marmalade";
    let o = pith_env(
        data.path(),
        &[
            "rephrase",
            "--model",
            "../../models/SmolLM2-135M-Instruct.Q4_1.gguf",
            "-m",
            "proofread",
            secret,
        ],
        b"",
        &[],
    );
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(3),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("model loaded"),
        "quiet without --verbose"
    );
    let logs: Vec<_> = std::fs::read_dir(data.path().join("logs"))
        .expect("a logs folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let name = logs[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("pith.") && name.ends_with(".log"),
        "{name}"
    );
    let log = std::fs::read_to_string(&logs[0]).expect("reads");
    assert!(
        log.contains("started") && log.contains("model loaded"),
        "{log}"
    );
    assert!(
        !log.contains("zebra") && !log.contains("marmalade"),
        "no user text: {log}"
    );

    let o = pith_env(data.path(), &["--verbose", "models", "list"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("started"), "{}", stderr(&o));
}
