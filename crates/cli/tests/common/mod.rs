// Each test binary uses some of these helpers.
#![allow(dead_code)]

//! Running the `pith` binary as a user or a script does, in a data folder
//! of the test's own.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs pith with `data` as its data folder, `stdin` as its standard
/// input, and `env` added to its environment.
pub fn pith_env(data: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pith"))
        .args(args)
        .env("PITH_DATA_DIR", data)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pith starts");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("writes stdin");
    drop(input);
    child.wait_with_output().expect("pith finishes")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
