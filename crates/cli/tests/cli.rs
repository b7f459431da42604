//! The `pith` binary as a user or a script runs it: real model, real exit
//! codes, standard output holding only results.

mod common;

use common::{pith_env, stderr, stdout};
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs pith with its own empty data folder (history database), so tests
/// never touch a real profile.
fn pith(args: &[&str], stdin: &[u8]) -> Output {
    let data = tempfile::tempdir().expect("tmp");
    pith_in(data.path(), args, stdin)
}

fn pith_in(data: &std::path::Path, args: &[&str], stdin: &[u8]) -> Output {
    pith_env(data, args, stdin, &[])
}

const TEXT: &str = "i wanted to let you know that the delivery of the new office chairs has been moved to next tuesday because the supplier had problems with there trucks";

#[test]
fn help_lists_every_command() {
    let o = pith(&["--help"], b"");
    assert!(o.status.success());
    for cmd in ["rephrase", "summarize", "extract", "chat", "bench"] {
        assert!(stdout(&o).contains(cmd), "{cmd} in help");
    }
}

#[test]
fn a_result_that_cannot_be_written_is_an_error_not_a_crash() {
    // Before: `>/dev/full` or a closed pipe made pith panic (exit 101).
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let o = Command::new(env!("CARGO_BIN_EXE_pith"))
        .args(["models", "catalog"])
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("could not write the result to standard output"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let mut child = Command::new(env!("CARGO_BIN_EXE_pith"))
        .args(["models", "catalog"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("finishes");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn oversized_standard_input_is_refused_by_its_size_before_the_model_runs() {
    // Before: 100 MB to `pith rephrase` was tokenized first and aborted the
    // process; `pith summarize -` read all of it before its 50 MB check.
    let big = "word ".repeat(4_000_000); // 20 MB
    let o = pith(&["rephrase", "--json"], big.as_bytes());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("CONTEXT_TOO_LONG"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("the text is 20 MB and a model is given at most 256 KB"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("summarize it instead"),
        "{}",
        stderr(&o)
    );
    let huge = vec![b'a'; 60_000_000];
    let o = pith(&["summarize", "-"], &huge);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the file is 60 MB, over the 50 MB limit"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_data_folder_and_the_history_are_private_to_the_user() {
    // Before: data files were created world-readable.
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().expect("tmp");
    let data = parent.path().join("pith-data");
    let o = pith_in(&data, &["history", "list"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("history.sqlite3")), 0o600);
}

#[test]
fn a_hostile_pdf_is_refused_not_a_crash() {
    // Before: a 1 KB PDF with arrays nested 100 deep overflowed the
    // extraction thread's stack and aborted `pith summarize` (exit 134),
    // and streams inflating to gigabytes were read into memory.
    let dir = tempfile::tempdir().expect("tmp");
    let nested = dir.path().join("nested.pdf");
    std::fs::write(
        &nested,
        format!(
            "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /A {}{} >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
            "[".repeat(100),
            "]".repeat(100)
        ),
    )
    .expect("write");
    let o = pith(&["summarize", nested.to_str().expect("path")], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("101 levels deep"), "{}", stderr(&o));

    let mut zeros = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut zeros, &vec![0u8; 8 << 20]).expect("compress");
    let zeros = zeros.finish().expect("compress");
    let mut bomb = b"%PDF-1.4\n".to_vec();
    for i in 0..40 {
        bomb.extend_from_slice(
            format!("{} 0 obj << /Filter /FlateDecode >>\nstream\n", i + 2).as_bytes(),
        );
        bomb.extend_from_slice(&zeros);
        bomb.extend_from_slice(b"\nendstream\nendobj\n");
    }
    let path = dir.path().join("bomb.pdf");
    std::fs::write(&path, &bomb).expect("write");
    let o = pith(&["summarize", path.to_str().expect("path")], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("decompression bomb"), "{}", stderr(&o));
}

#[test]
fn rephrase_prints_only_the_result() {
    let o = pith(&["rephrase", "--mode", "proofread", TEXT], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out:?}");
    assert!(out.contains("Tuesday"), "{out:?}");
}

#[test]
fn rephrase_reads_standard_input_and_speaks_json() {
    let o = pith(
        &["rephrase", "--mode", "concise", "--json", "-"],
        TEXT.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(v["mode"], "concise");
    assert!(v["text"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(v["generated_tokens"].as_u64().is_some_and(|n| n > 0));
}

#[test]
fn a_refused_rewrite_exits_3_with_the_reason_on_stderr() {
    let o = pith(&["rephrase", "--mode", "friendly", TEXT], b"");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stdout(&o).is_empty(), "nothing is passed off as a rewrite");
    assert!(stderr(&o).contains("rejected"), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger model"), "{}", stderr(&o));
}

#[test]
fn empty_input_is_a_clear_error() {
    let o = pith(&["rephrase", "-"], b"   \n");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("input is empty"), "{}", stderr(&o));
    let o = pith(&["rephrase", "--json", ""], b"");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json error");
    assert_eq!(v["error"]["code"], "EMPTY_INPUT");
}

#[test]
fn binary_garbage_on_stdin_is_refused_not_sent_to_the_model() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let o = pith(&["rephrase", "-"], &garbage);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("binary") || stderr(&o).contains("not UTF-8"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_model_file_says_so() {
    let o = pith(
        &[
            "rephrase",
            "--model",
            "/nonexistent/model.gguf",
            "hello there",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no model file at /nonexistent/model.gguf"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn no_model_anywhere_says_how_to_get_one() {
    let empty = tempfile::tempdir().expect("tmp");
    let o = Command::new(env!("CARGO_BIN_EXE_pith"))
        .args(["rephrase", "hello there"])
        .env("PITH_MODELS_DIR", empty.path())
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no model found"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&empty.path().display().to_string()),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("fetch-model"), "{}", stderr(&o));
}

#[test]
fn a_truncated_or_fake_gguf_is_refused_before_llama_cpp_sees_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = dir.path().join("model.gguf");
    std::fs::write(&fake, b"this is not a model").expect("writes");
    let o = pith(
        &[
            "rephrase",
            "--model",
            fake.to_str().expect("utf8"),
            "hello there",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not a usable GGUF model"),
        "{}",
        stderr(&o)
    );

    let header_only = dir.path().join("cut.gguf");
    let mut bytes = b"GGUF".to_vec();
    bytes.extend(3u32.to_le_bytes());
    bytes.extend(10u64.to_le_bytes());
    std::fs::write(&header_only, bytes).expect("writes");
    let o = pith(
        &[
            "summarize",
            "--model",
            header_only.to_str().expect("utf8"),
            "-",
        ],
        b"Some text to summarize.",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
}

#[test]
fn summarize_refuses_a_pdf_named_txt() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("notes.txt");
    std::fs::write(&f, b"%PDF-1.4\n%binary").expect("writes");
    let o = pith(&["summarize", "--json", f.to_str().expect("utf8")], b"");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["error"]["code"], "UNSUPPORTED_DOCUMENT");
}

#[test]
fn summarize_a_markdown_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("notice.md");
    std::fs::write(
        &f,
        "# Library hours\n\nFrom 3 March, the city library will open at 9:00 instead of 10:00 on weekdays. \
         Saturday hours stay the same, 10:00 to 16:00, and the library remains closed on Sundays.\n\n\
         The change follows a survey in which 1,200 residents took part. Most asked for earlier opening so \
         they could visit before work. The library will also add two study rooms that can be booked online.\n\n\
         Staff numbers do not change; the earlier start is covered by moving the evening closing time from \
         20:00 to 19:00.\n",
    )
    .expect("writes");
    let o = pith(&["summarize", f.to_str().expect("utf8")], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("9:00"), "{out:?}");
}

#[test]
fn chat_answers_each_input_line() {
    let o = pith(
        &["chat"],
        b"What is the capital of France?\nAnd of Italy?\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let replies: Vec<&str> = out.split("\n\n").filter(|r| !r.trim().is_empty()).collect();
    assert_eq!(replies.len(), 2, "{out:?}");
    assert!(replies[0].contains("Paris"), "{out:?}");
    assert!(replies[1].contains("Rome"), "{out:?}");
}

#[test]
fn bench_prints_one_json_object_with_every_figure() {
    let o = pith(&["bench"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    for key in [
        "load_s",
        "prompt_tps",
        "gen_tps",
        "rephrase_ttft_s",
        "peak_rss_mb",
        "proofread_tps_plain",
        "proofread_tps_lookup",
        "restore_ms",
        "reeval_ms",
        "lookup_verify_cost/9",
        "lookup_exact_batch/100",
        "constrained_gen_tps",
        "constrained_gen_tps_grammar_first",
        "command_custom_s",
        "command_action_items_s",
        "command_event_s",
        "command_reply_s",
    ] {
        let figure = v.pointer(&format!("/{key}")).and_then(|x| x.as_f64());
        assert!(figure.is_some_and(|x| x > 0.0), "{key}: {figure:?}");
    }
    assert!(v["threads"].as_u64().is_some_and(|t| t >= 1));
    let features = v["cpu_features"].as_array().expect("cpu_features");
    assert!(!features.is_empty());
    assert!(v["cpu_target"] == "native" || v["cpu_target"] == "portable");
    // Under the grammar every one of the 20 extractions is valid JSON that
    // follows its schema.
    assert_eq!(v["json_requests"], 20);
    assert_eq!(v["json_valid_rate_constrained"], 1.0);
    // The event's relative date is resolved from the bench's fixed today.
    assert_eq!(v["command_event_start"], "2026-12-08 15:00");
    assert!(v["json_valid_rate_free"]
        .as_f64()
        .is_some_and(|r| (0.0..=1.0).contains(&r)));
}

#[test]
fn chats_are_saved_and_can_be_listed_shown_searched_exported_and_removed() {
    let data = tempfile::tempdir().expect("tmp");
    let o = pith_in(data.path(), &["chat"], b"What is the capital of France?\n");
    assert!(o.status.success(), "{}", stderr(&o));

    let o = pith_in(data.path(), &["history", "list", "--json"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let list: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let first = &list.as_array().expect("array")[0];
    let id = first["id"].as_i64().expect("id");
    assert_eq!(first["title"], "What is the capital of France?");
    let id_s = id.to_string();

    let o = pith_in(data.path(), &["history", "show", &id_s, "--json"], b"");
    let shown: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let messages = shown["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["status"], "complete");
    assert!(messages[1]["text"]
        .as_str()
        .is_some_and(|t| t.contains("Paris")));

    let o = pith_in(
        data.path(),
        &["history", "search", "capital", "--json"],
        b"",
    );
    let hits: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert!(hits.as_array().is_some_and(|h| !h.is_empty()));
    assert_eq!(hits[0]["conversation_id"], id);
    assert!(hits[0]["snippet"]
        .as_str()
        .is_some_and(|s| s.contains("«capital»")));

    // Continue the same conversation; it now has four messages.
    let o = pith_in(
        data.path(),
        &["chat", "--conversation", &id_s],
        b"And of Italy?\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pith_in(
        data.path(),
        &["history", "export", &id_s, "--format", "md"],
        b"",
    );
    let md = stdout(&o);
    assert!(md.starts_with("# What is the capital of France?"), "{md}");
    assert_eq!(md.matches("## You").count(), 2, "{md}");
    let o = pith_in(
        data.path(),
        &["history", "export", &id_s, "--format", "json"],
        b"",
    );
    let exported: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(exported["messages"].as_array().map(Vec::len), Some(4));

    let o = pith_in(data.path(), &["history", "rm", &id_s], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pith_in(data.path(), &["history", "show", &id_s, "--json"], b"");
    assert_eq!(o.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(err["error"]["code"], "NOT_FOUND");
}

#[test]
fn a_damaged_history_database_is_moved_aside_and_the_user_told_where() {
    let data = tempfile::tempdir().expect("tmp");
    std::fs::write(
        data.path().join("history.sqlite3"),
        b"garbage, not a database ".repeat(100),
    )
    .expect("writes");
    let o = pith_in(data.path(), &["history", "list"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("was damaged; it was moved to"),
        "{}",
        stderr(&o)
    );
    let kept = std::fs::read_dir(data.path())
        .expect("dir")
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("history.sqlite3.damaged-")
        });
    assert!(kept, "the old file is kept beside the new one");
}

#[test]
fn continuing_a_conversation_that_does_not_exist_is_a_clear_error() {
    let o = pith(&["chat", "--conversation", "999"], b"hello\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("conversation 999 does not exist"),
        "{}",
        stderr(&o)
    );
}

mod models {
    use super::*;
    use pith_core::models::synthetic::Shape;

    fn pith_env(envs: &[(&str, &std::path::Path)], args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pith"));
        cmd.args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().expect("pith runs")
    }

    #[test]
    fn hardware_json_reports_what_the_os_reports() {
        let o = pith(&["hardware", "--json"], b"");
        assert!(o.status.success(), "{}", stderr(&o));
        let hw: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let meminfo = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
        let total_kb: u64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("MemTotal");
        assert_eq!(hw["memory"]["total_bytes"], total_kb * 1024);
        let nproc = Command::new("nproc").output().expect("nproc");
        let nproc: u64 = String::from_utf8_lossy(&nproc.stdout)
            .trim()
            .parse()
            .expect("n");
        assert_eq!(hw["cpu"]["logical_cores"], nproc);
        assert!(hw["memory_bandwidth_gbs"].as_f64().is_some_and(|b| b > 0.0));
        assert!(hw["gpus"].is_array());
        let text = pith(&["hardware"], b"");
        assert!(
            stdout(&text).contains("physical cores"),
            "{}",
            stdout(&text)
        );
    }

    #[test]
    fn recommend_explains_a_choice_for_each_task() {
        let o = pith(&["models", "recommend", "--json"], b"");
        assert!(o.status.success(), "{}", stderr(&o));
        let plans: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let plans = plans.as_array().expect("three plans");
        assert_eq!(plans.len(), 3);
        for p in plans {
            let chosen = &p["choice"];
            assert!(chosen.is_object(), "this machine fits a catalog model: {p}");
            let ram = chosen["estimate"]["ram_bytes"].as_u64().expect("ram");
            assert!(ram <= p["budget"]["ram_budget_bytes"].as_u64().expect("budget"));
            assert!(p["reason"].as_str().is_some_and(|r| r.contains("tokens/s")));
            assert!(p["rejected"].as_array().is_some_and(|r| r.len() > 20));
        }
        let text = pith(&["models", "recommend", "--task", "rephrase"], b"");
        assert!(
            stdout(&text).starts_with("memory for models:"),
            "{}",
            stdout(&text)
        );
        assert!(stdout(&text).contains("why: "));
        let bad = pith(&["models", "recommend", "--task", "translate"], b"");
        assert_eq!(bad.status.code(), Some(2));
        assert!(stderr(&bad).contains("rephrase, summarize or chat"));
    }

    #[test]
    fn import_list_and_remove_a_model() {
        let store = tempfile::tempdir().expect("tmp");
        let src = tempfile::tempdir().expect("tmp");
        let shape = Shape::TINY;
        let file = src.path().join(shape.file_name());
        shape.write(&file).expect("write");
        let envs = [
            ("PITH_MODELS_DIR", store.path()),
            ("PITH_DATA_DIR", src.path()),
        ];

        let o = pith_env(&envs, &["models", "import", &file.display().to_string()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(store.path().join(shape.file_name()).is_file());

        let list = pith_env(&envs, &["models", "list", "--json"]);
        let listed: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
        assert_eq!(listed[0]["id"], "synthetic-tiny-q8_0");
        assert_eq!(listed[0]["summary"]["block_count"], 2);

        let broken = src.path().join("broken.gguf");
        std::fs::write(&broken, b"GGUF\x03\x00\x00\x00").expect("write");
        let o = pith_env(&envs, &["models", "import", &broken.display().to_string()]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("not a usable GGUF model"),
            "{}",
            stderr(&o)
        );

        let o = pith_env(&envs, &["models", "rm", "synthetic-tiny-q8_0"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = pith_env(&envs, &["models", "rm", "synthetic-tiny-q8_0"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("installed: none"), "{}", stderr(&o));
    }

    #[test]
    fn a_model_of_an_architecture_this_build_does_not_know_is_refused_by_name() {
        // A valid file whose architecture a later llama.cpp may add: refused
        // from its header, before llama.cpp is asked to load it.
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("future.gguf");
        Shape::TINY.write(&file).expect("write");
        let mut bytes = std::fs::read(&file).expect("read");
        let at = bytes
            .windows(5)
            .position(|w| w == b"llama")
            .expect("architecture");
        bytes[at..at + 5].copy_from_slice(b"zeta9");
        std::fs::write(&file, bytes).expect("write");
        let envs = [("PITH_DATA_DIR", dir.path())];
        let model = file.display().to_string();
        let o = pith_env(
            &envs,
            &[
                "rephrase",
                "--json",
                "--model",
                &model,
                "Fix this sentense.",
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err: serde_json::Value = serde_json::from_slice(&o.stderr)
            .or_else(|_| serde_json::from_slice(&o.stdout))
            .expect("a JSON error");
        assert_eq!(err["error"]["code"], "INVALID_MODEL");
        let message = err["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("\"zeta9\""), "{message}");
        assert!(message.contains(env!("CARGO_PKG_VERSION")), "{message}");
        let o = pith_env(&envs, &["models", "import", &model]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("zeta9"), "{}", stderr(&o));
    }

    /// A models folder holding the default model (by a link), a data
    /// folder, and the linked model's path.
    fn store_with_default_model() -> (tempfile::TempDir, tempfile::TempDir, String) {
        let store = tempfile::tempdir().expect("tmp");
        let data = tempfile::tempdir().expect("tmp");
        let real = default_model_path();
        let linked = store.path().join(real.file_name().expect("file name"));
        std::os::unix::fs::symlink(&real, &linked).expect("link");
        (store, data, linked.display().to_string())
    }

    #[test]
    fn tune_refuses_what_it_cannot_do_with_the_reason_and_changes_nothing() {
        let (store, data, model) = store_with_default_model();
        let envs = [
            ("PITH_MODELS_DIR", store.path()),
            ("PITH_DATA_DIR", data.path()),
        ];
        let run = |args: &[&str]| {
            let mut all = vec!["tune"];
            all.extend_from_slice(args);
            all.extend_from_slice(&["--model", &model]);
            pith_env(&envs, &all)
        };
        // No rule-made pairs for a tone mode, and no teacher installed.
        let o = run(&["friendly"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("--teacher"), "{}", stderr(&o));
        let o = run(&["friendly", "--teacher"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("no installed model larger"),
            "{}",
            stderr(&o)
        );
        // Nothing to resume.
        let o = run(&["proofread", "--resume", "--json"]);
        assert_eq!(o.status.code(), Some(1));
        let err: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(err["error"]["code"], "NOT_FOUND", "{err}");
        assert!(err["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("--resume"));
        // Not a mode.
        assert_eq!(run(&["poetry"]).status.code(), Some(2));
        // Nothing was left behind or installed.
        let left: Vec<_> = std::fs::read_dir(store.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }

    #[test]
    fn an_adapter_is_imported_for_a_mode_listed_and_used_by_that_mode() {
        use pith_core::models::synthetic::{write_lora, SHAPES};
        let (store, data, model) = store_with_default_model();
        let envs = [
            ("PITH_MODELS_DIR", store.path()),
            ("PITH_DATA_DIR", data.path()),
        ];
        let text = "Their going to the libary tomorow.";
        let rewrite = |envs: &[(&str, &std::path::Path)]| {
            let o = pith_env(
                envs,
                &[
                    "rephrase",
                    "--mode",
                    "proofread",
                    "--json",
                    "--model",
                    &model,
                    text,
                ],
            );
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            assert!(!out.is_empty(), "{}", stderr(&o));
            out
        };
        let base = rewrite(&envs);

        // Random weights of SmolLM2-135M's shapes, for proofread.
        let lora = data.path().join("proofread-lora.gguf");
        write_lora(&SHAPES[0], &lora, 8, 0.2, 7).expect("adapter");
        let o = pith_env(
            &envs,
            &[
                "models",
                "import",
                "--adapter",
                &lora.display().to_string(),
                "--for",
                "proofread",
                "--model",
                &model,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("--proofread.gguf"));
        let list = pith_env(&envs, &["models", "list"]);
        assert!(
            String::from_utf8_lossy(&list.stdout).contains("adapters for proofread"),
            "{}",
            String::from_utf8_lossy(&list.stdout)
        );
        // Proofreading now tries the adapter first: its answer, or (this
        // adapter is noise) the base model's retry after it failed.
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).expect("json");
        let (base, tuned) = (parse(&base), parse(&rewrite(&envs)));
        assert!(
            tuned["text"] != base["text"] || tuned["attempts"] != base["attempts"],
            "{tuned} {base}"
        );

        // An adapter for another model is refused, naming why; nothing changes.
        let tiny = data.path().join("tiny-lora.gguf");
        write_lora(&Shape::TINY_SWA, &tiny, 4, 0.1, 1).expect("adapter");
        let o = pith_env(
            &envs,
            &[
                "models",
                "import",
                "--adapter",
                &tiny.display().to_string(),
                "--for",
                "concise",
                "--model",
                &model,
            ],
        );
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("made for a \"gemma3\" model"),
            "{}",
            stderr(&o)
        );
        let o = pith_env(
            &envs,
            &["models", "import", "--adapter", &tiny.display().to_string()],
        );
        assert_eq!(o.status.code(), Some(2), "--for is required");
    }

    #[test]
    fn pull_names_what_it_cannot_fetch() {
        let o = pith(&["models", "pull", "no-such-model"], b"");
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("pith models catalog"), "{}", stderr(&o));
        let o = pith(&["models", "pull", "smollm2-135m-instruct-q4_1"], b"");
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("fetch-models.sh"), "{}", stderr(&o));
    }

    #[test]
    fn pull_downloads_from_a_mirror_and_checks_the_file() {
        // A mirror on loopback serving an HTML error page under the catalog
        // file's name: the download completes but is refused as a model.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            use std::io::{BufRead, BufReader};
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let body = "<html>rate limited</html>";
                // It even publishes the page's checksum: the file is
                // verified, then refused as a model.
                let sha = {
                    use sha2::Digest;
                    format!("{:x}", sha2::Sha256::digest(body.as_bytes()))
                };
                let mut s = stream;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Linked-Etag: \"{sha}\"\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let store = tempfile::tempdir().expect("tmp");
        let data = tempfile::tempdir().expect("tmp");
        let o = Command::new(env!("CARGO_BIN_EXE_pith"))
            .args(["models", "pull", "qwen2.5-0.5b-instruct-q4_k_m"])
            .env("HF_ENDPOINT", &endpoint)
            .env("PITH_MODELS_DIR", store.path())
            .env("PITH_DATA_DIR", data.path())
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("not a GGUF file"), "{}", stderr(&o));
        assert_eq!(std::fs::read_dir(store.path()).expect("dir").count(), 0);
    }
}

#[test]
fn a_conversation_keeps_its_model_state_until_it_is_deleted() {
    let data = tempfile::tempdir().expect("tmp");
    let states = data.path().join("state");
    let o = pith_in(data.path(), &["chat"], b"Name three colours of the sea.\n");
    assert!(o.status.success(), "{}", stderr(&o));
    let saved = |prefix: &str| {
        std::fs::read_dir(&states)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(saved("conversation-1--"), 2, "the state and its check");
    // A rephrase keeps the mode's instructions too.
    let o = pith_in(data.path(), &["rephrase", TEXT], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(saved("rephrase-proofread--"), 2);

    let o = pith_in(data.path(), &["history", "rm", "1"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        saved("conversation-1--"),
        0,
        "deleted with the conversation"
    );
    assert_eq!(saved("rephrase-proofread--"), 2);
}

#[test]
fn a_conversation_continued_after_a_restart_replies_as_without_one() {
    const TURN1: &[u8] = b"Name three colours of the sea.\n";
    const TURN2: &[u8] = b"Which of them is the darkest?\n";
    // One process: the second turn on the state still in memory.
    let one = tempfile::tempdir().expect("tmp");
    let o = pith_in(one.path(), &["chat"], &[TURN1, TURN2].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let original = stdout(&o);

    // Two processes: the second turn from the state file the first left.
    let run_twice = |damage: &dyn Fn(&std::path::Path)| {
        let data = tempfile::tempdir().expect("tmp");
        let first = pith_in(data.path(), &["chat"], TURN1);
        assert!(first.status.success(), "{}", stderr(&first));
        let states: Vec<_> = std::fs::read_dir(data.path().join("state"))
            .expect("states saved")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "kv"))
            .collect();
        assert_eq!(states.len(), 1, "{states:?}");
        damage(&states[0]);
        let second = pith_in(data.path(), &["chat", "--conversation", "1"], TURN2);
        assert!(second.status.success(), "{}", stderr(&second));
        (stdout(&first), stdout(&second))
    };
    let (turn1, turn2) = run_twice(&|_| {});
    assert_eq!(turn1 + &turn2, original);

    // A truncated state file is not read: the history is evaluated again.
    let (turn1, turn2) = run_twice(&|kv| {
        let bytes = std::fs::read(kv).expect("reads");
        std::fs::write(kv, &bytes[..bytes.len() / 2]).expect("truncates");
    });
    assert!(original.starts_with(&turn1), "{turn1}");
    assert!(turn2.split_whitespace().count() > 3, "a reply: {turn2}");
}

#[test]
fn summarize_a_pdf_reports_coverage_and_saves_a_conversation() {
    use pith_core::documents::sample;
    let data = tempfile::tempdir().expect("tmp");
    let file = data.path().join("report.pdf");
    let pages: Vec<Vec<String>> = sample::report(6, 200)
        .iter()
        .map(|p| sample::wrap(p, 95))
        .collect();
    std::fs::write(&file, sample::pdf(&pages)).expect("writes");
    let o = pith_in(
        data.path(),
        &["summarize", "--json", file.to_str().expect("utf8")],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let parts = v["parts"].as_array().expect("parts").len();
    assert!(parts >= 2, "{v}");
    assert_eq!(v["format"], "pdf");
    assert_eq!(v["pages"], 6);
    assert!(
        v["coverage"]
            .as_str()
            .expect("coverage")
            .starts_with(&format!("Covered all 6 pages in {parts} parts.")),
        "{v}"
    );
    assert!(!v["summary"].as_str().expect("summary").trim().is_empty());
    // The result is a conversation the user can continue.
    let id = v["conversation"].as_i64().expect("saved");
    let shown = pith_in(
        data.path(),
        &["history", "show", &id.to_string(), "--json"],
        b"",
    );
    assert!(shown.status.success(), "{}", stderr(&shown));
    let conv = stdout(&shown);
    assert!(conv.contains("Summary of report.pdf"), "{conv}");
    assert!(conv.contains("Covered all 6 pages"), "{conv}");
}

#[test]
fn summarize_refuses_unreadable_documents_with_the_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.txt", b"", "empty"),
        ("photo.pdf", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "PNG image"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj <<", "PDF is damaged"),
        ("sheet.docx", b"PK\x03\x04garbage", "ZIP archive"),
    ];
    for (name, bytes, why) in cases {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).expect("writes");
        let o = pith(&["summarize", "--json", f.to_str().expect("utf8")], b"");
        assert_eq!(o.status.code(), Some(1), "{name}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(v["error"]["code"], "UNSUPPORTED_DOCUMENT", "{name}: {v}");
        let message = v["error"]["message"].as_str().expect("message");
        assert!(message.contains(why), "{name}: {message}");
    }
    let o = pith(&["summarize", "--length", "poem", "-"], b"text");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("quotes"), "{}", stderr(&o));
}

/// A running `pith serve` on a free port, stopped when dropped.
struct Served {
    child: std::process::Child,
    base_url: String,
    token: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `pith serve --port 0` and reads its address and token.
fn serve(data: &std::path::Path) -> Served {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pith"))
        .args(["serve", "--port", "0"])
        .env("PITH_DATA_DIR", data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pith serve starts");
    let out = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(out).lines();
    let mut base_url = String::new();
    let mut token = String::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(u) = line.strip_prefix("Pith API listening on ") {
            base_url = u.to_string();
        }
        if let Some(t) = line.strip_prefix("token: ") {
            token = t.to_string();
        }
        if line.starts_with("remote: ") {
            break;
        }
    }
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    assert_eq!(token.len(), 32, "a generated token");
    Served {
        child,
        base_url,
        token,
    }
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn complete(s: &Served, body: &str, token: Option<&str>) -> (u16, String) {
    let mut req = http().post(format!("{}/chat/completions", s.base_url));
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.send(body.to_string()).expect("sent");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().expect("body"))
}

#[test]
fn the_api_rephrases_with_the_same_checked_routed_flow_as_the_command_line() {
    let data = tempfile::tempdir().expect("tmp");
    let s = serve(data.path());
    let rephrase = |body: &str| {
        let mut resp = http()
            .post(format!("{}/pith/rephrase", s.base_url))
            .header("Authorization", &format!("Bearer {}", s.token))
            .send(body.to_string())
            .expect("sent");
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().expect("body");
        (
            status,
            serde_json::from_str::<serde_json::Value>(&text).expect("json"),
        )
    };
    let (status, v) = rephrase(&format!(r#"{{"text":"{TEXT}","mode":"proofread"}}"#));
    assert_eq!(status, 200, "{v}");
    assert!(v["text"].as_str().expect("text").contains("Tuesday"), "{v}");
    assert_eq!(v["mode"], "proofread");
    assert_eq!(v["escalated"], false);
    assert!(
        v["route"]
            .as_str()
            .expect("route")
            .contains("smallest model"),
        "{v}"
    );
    // The line SmolLM2's proofread fails: refused with the larger model
    // offered, exactly as `pith rephrase` says it (see the test below).
    let (status, v) = rephrase(r#"{"text":"teh cat sat on teh mat"}"#);
    assert_eq!(status, 422, "{v}");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(message.contains("gemma-3-270m-q4_k_m"), "{message}");
}

#[test]
fn serve_answers_openai_clients_streams_and_refuses_bad_requests() {
    let data = tempfile::tempdir().expect("tmp");
    let s = serve(data.path());
    let ask = r#"{"max_tokens":24,"temperature":0,"messages":[{"role":"user","content":"What is the capital of France?"}]}"#;
    let (status, body) = complete(&s, ask, Some(&s.token));
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let answer = v["choices"][0]["message"]["content"]
        .as_str()
        .expect("content");
    assert!(answer.contains("Paris"), "{answer}");
    assert_eq!(v["pith"]["remote"], false);
    assert_eq!(v["model"], "SmolLM2-135M-Instruct.Q4_1");

    // Streamed: the same answer, piece by piece, as server-sent events.
    let stream = ask.replacen('{', r#"{"stream":true,"#, 1);
    let (status, body) = complete(&s, &stream, Some(&s.token));
    assert_eq!(status, 200);
    let mut text = String::new();
    let mut pieces = 0;
    for data in body.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if data == "[DONE]" {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(data).expect("event");
        if let Some(p) = v["choices"][0]["delta"]["content"].as_str() {
            text.push_str(p);
            pieces += 1;
        }
    }
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    assert!(pieces > 3, "streamed in pieces");
    assert_eq!(
        text, answer,
        "greedy: the streamed text equals the plain answer"
    );

    let (status, body) = complete(&s, ask, None);
    assert_eq!(status, 401, "{body}");
    let (status, body) = complete(&s, "{\"messages\": [oops", Some(&s.token));
    assert_eq!(status, 400);
    assert!(body.contains("not valid JSON"), "{body}");
}

#[test]
fn serve_answers_ten_concurrent_requests_through_one_queue() {
    let data = tempfile::tempdir().expect("tmp");
    let s = serve(data.path());
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let url = s.base_url.clone();
            let token = s.token.clone();
            std::thread::spawn(move || {
                let t = std::time::Instant::now();
                let body = format!(
                    r#"{{"max_tokens":32,"messages":[{{"role":"user","content":"Name a colour, number {i}."}}]}}"#
                );
                let mut resp = http()
                    .post(format!("{url}/chat/completions"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .send(body)
                    .expect("sent");
                let status = resp.status().as_u16();
                let text = resp.body_mut().read_to_string().expect("body");
                (status, text, t.elapsed().as_secs_f64())
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut tokens = 0;
    for h in handles {
        let (status, body, secs) = h.join().expect("thread");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert!(!v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or("")
            .is_empty());
        tokens += v["usage"]["completion_tokens"].as_u64().unwrap_or(0);
        latencies.push(secs);
    }
    latencies.sort_by(f64::total_cmp);
    eprintln!(
        "10 concurrent requests: all answered in {:.2} s; latency min {:.2} s, median {:.2} s, max {:.2} s; {tokens} tokens",
        started.elapsed().as_secs_f64(),
        latencies[0],
        latencies[5],
        latencies[9]
    );
}

/// Runs `script` with bash in a new network namespace that has only a
/// loopback interface (`unshare -rn`): any connection to another machine
/// fails there, so a flow that works in it used no network.
fn offline(data: &std::path::Path, script: &str) -> Output {
    Command::new("unshare")
        .args(["-rn", "bash", "-euo", "pipefail", "-c"])
        .arg(format!("ip link set lo up\n{script}"))
        .env("PITH", env!("CARGO_BIN_EXE_pith"))
        .env("PITH_DATA_DIR", data)
        .env("MODEL", default_model_path())
        .output()
        .expect("unshare runs (util-linux, iproute2)")
}

/// Starts `pith serve` in the background, waits for its banner, and asks
/// `questions` through Python's own HTTP client; prints each answer as JSON.
const SERVE_AND_ASK: &str = r#"
"$PITH" serve --port 8391 --token offline-token $SERVE_ARGS > "$PITH_DATA_DIR/serve.out" 2>&1 &
trap 'kill %1 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q '^remote:' "$PITH_DATA_DIR/serve.out" && break; sleep 0.1; done
python3 - "$@" <<'PY'
import json, sys, urllib.request, urllib.error
for q in sys.argv[1:]:
    body = json.dumps({"max_tokens": 16, "messages": [{"role": "user", "content": q}]}).encode()
    req = urllib.request.Request("http://127.0.0.1:8391/v1/chat/completions", body,
                                 {"Authorization": "Bearer offline-token"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            print(json.dumps({"status": r.status, "body": json.load(r)}))
    except urllib.error.HTTPError as e:
        print(json.dumps({"status": e.code, "body": json.load(e)}))
PY
kill %1
"#;

#[test]
fn with_remote_off_everything_works_with_no_network_but_loopback() {
    let data = tempfile::tempdir().expect("tmp");
    let doc = data.path().join("notes.md");
    std::fs::write(&doc, "# Notes\n\nThe library opens at nine on weekdays.").expect("write");
    let script = format!(
        "SERVE_ARGS= ; set -- 'Hello!' 'What is 17 * 23? Explain step by step.'\n{SERVE_AND_ASK}\n\
         \"$PITH\" rephrase --mode rewrite 'The meeting was moved to friday because the room was booked.'\n\
         \"$PITH\" summarize {}\n\
         \"$PITH\" history list --json\n",
        doc.display()
    );
    let o = offline(data.path(), &script);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    let answers: Vec<serde_json::Value> = out
        .lines()
        .filter(|l| l.starts_with("{\"status\""))
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(answers.len(), 2, "{out}");
    for a in &answers {
        assert_eq!(a["status"], 200, "{a}");
        assert_eq!(a["body"]["pith"]["remote"], false, "{a}");
    }
    // The hard question went to the larger local model (loaded on demand).
    assert_eq!(
        answers[1]["body"]["model"], "gemma-3-270m-q4_k_m",
        "{}",
        answers[1]
    );
    assert!(out.contains("Covered the whole document"), "{out}");
}

#[test]
fn the_namespace_blocks_what_leaves_the_machine_so_the_check_can_fail() {
    // The control: with a remote endpoint switched on and one local model,
    // the hard question goes remote, and in the namespace it cannot leave.
    let data = tempfile::tempdir().expect("tmp");
    std::fs::write(
        data.path().join("settings.toml"),
        "[remote]\nenabled = true\nbase_url = \"http://192.0.2.1:9/v1\"\nmodel = \"big\"\n",
    )
    .expect("settings");
    let script =
        format!("SERVE_ARGS=\"--model $MODEL\" ; set -- 'Prove that 2 + 2 = 4.'\n{SERVE_AND_ASK}");
    let o = offline(data.path(), &script);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    let answer: serde_json::Value = out
        .lines()
        .find(|l| l.starts_with("{\"status\""))
        .map(|l| serde_json::from_str(l).expect("json"))
        .expect("an answer");
    assert_eq!(answer["status"], 502, "{answer}");
    let message = answer["body"]["error"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("192.0.2.1"), "{message}");
}

fn default_model_path() -> std::path::PathBuf {
    pith_core::models::find_default_model(&pith_core::models::search_dirs())
        .expect("the default model is installed")
}

#[test]
fn route_explains_which_installed_model_answers() {
    let cases = [
        (
            "Hi, how are you today?",
            "chat",
            "SmolLM2-135M-Instruct.Q4_1",
            "simple message",
        ),
        (
            "What is 17 * 23?",
            "chat",
            "gemma-3-270m-q4_k_m",
            "asks for math",
        ),
        (
            "Fix: teh cat sat on teh mat",
            "rephrase",
            "SmolLM2-135M-Instruct.Q4_1",
            "quick",
        ),
    ];
    for (text, task, model, why) in cases {
        let o = pith(&["route", "--explain", "--json", "--task", task, text], b"");
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(v["target"]["id"], model, "{text}: {v}");
        assert!(
            v["reason"].as_str().expect("reason").contains(why),
            "{text}: {v}"
        );
    }
    let o = pith(&["route", "--explain", "--larger", "Hello"], b"");
    assert!(
        stdout(&o).starts_with("gemma-3-270m-q4_k_m\n  why: you asked for the larger model"),
        "{}",
        stdout(&o)
    );
    // Without --explain: only the model's id, for scripts.
    let o = pith(&["route", "--larger", "Hello"], b"");
    assert_eq!(stdout(&o), "gemma-3-270m-q4_k_m\n");
}

#[test]
fn a_rewrite_that_fails_the_check_is_offered_to_the_larger_model_or_escalated() {
    // SmolLM2-135M's proofread of this line fails Pith's check (greedy,
    // so it fails the same way every time).
    let data = tempfile::tempdir().expect("tmp");
    let o = pith_in(data.path(), &["rephrase", "teh cat sat on teh mat"], b"");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("Retry it with: pith rephrase --larger (answers with gemma-3-270m-q4_k_m)"),
        "{}",
        stderr(&o)
    );
    std::fs::write(data.path().join("settings.toml"), "auto_escalate = true\n").expect("settings");
    let o = pith_in(
        data.path(),
        &["rephrase", "--json", "teh cat sat on teh mat"],
        b"",
    );
    assert!(
        stderr(&o).contains("failed the result check; escalated to gemma-3-270m-q4_k_m"),
        "{}",
        stderr(&o)
    );
    // The larger model answered (its result, or its own refusal).
    assert!(stdout(&o).contains("gemma-3-270m-q4_k_m"), "{}", stdout(&o));
}

/// A schema file in `dir`.
fn schema_file(dir: &std::path::Path, schema: &serde_json::Value) -> String {
    let path = dir.join("schema.json");
    std::fs::write(&path, schema.to_string()).expect("writes the schema");
    path.display().to_string()
}

const INVOICE: &str = "Hi Sam, this is Maria Lopez from Acme Corp. The invoice for 1,250 euros is due on March 14. Thanks!";

#[test]
fn extract_prints_the_value_copied_from_a_document() {
    let dir = tempfile::tempdir().expect("tmp");
    let schema = schema_file(
        dir.path(),
        &serde_json::json!({"type": "object", "properties": {
            "name": {"type": "string"}, "company": {"type": "string"},
            "amount": {"type": "number"}, "due": {"type": "string"}},
            "required": ["name", "company", "amount", "due"], "additionalProperties": false}),
    );
    // A document format Pith reads, here HTML.
    let doc = dir.path().join("mail.html");
    std::fs::write(&doc, format!("<html><body><p>{INVOICE}</p></body></html>")).expect("doc");
    let o = pith(
        &["extract", "--schema", &schema, &doc.display().to_string()],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let value: serde_json::Value =
        serde_json::from_str(&stdout(&o)).expect("stdout is the JSON value");
    assert_eq!(
        value,
        serde_json::json!({"name": "Maria Lopez", "company": "Acme Corp", "amount": 1250, "due": "March 14"})
    );

    let o = pith(
        &["extract", "--schema", &schema, "--json", "-"],
        INVOICE.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(report["ok"], true);
    assert_eq!(report["value"], value);
    assert_eq!(report["attempts"], 1);
}

#[test]
fn an_extracted_value_not_in_the_text_is_flagged_with_status_3_never_printed_as_a_result() {
    let dir = tempfile::tempdir().expect("tmp");
    // The text has no phone number: whatever the models write is invented.
    let schema = schema_file(
        dir.path(),
        &serde_json::json!({"type": "object", "properties": {"phone": {"type": "string", "pattern": "^[0-9]{3}-[0-9]{4}$"}},
                            "required": ["phone"]}),
    );
    let o = pith(&["extract", "--schema", &schema, "-"], INVOICE.as_bytes());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "nothing is passed off as a result");
    assert!(stderr(&o).contains("/phone"), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not in the text"), "{}", stderr(&o));

    let o = pith(
        &["extract", "--schema", &schema, "--json", "-"],
        INVOICE.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(report["ok"], false);
    assert!(report["value"]["phone"].is_string());
    assert!(report["problems"][0]
        .as_str()
        .is_some_and(|p| p.starts_with("/phone")));
}

#[test]
fn extract_refuses_bad_schemas_naming_the_part() {
    let dir = tempfile::tempdir().expect("tmp");
    let unsupported = schema_file(
        dir.path(),
        &serde_json::json!({"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 7}}}),
    );
    let o = pith(
        &["extract", "--schema", &unsupported, "-"],
        INVOICE.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/properties/n/multipleOf"),
        "{}",
        stderr(&o)
    );

    let not_json = dir.path().join("broken.json");
    std::fs::write(&not_json, "{\"type\": ").expect("writes");
    let o = pith(
        &[
            "extract",
            "--schema",
            &not_json.display().to_string(),
            "--json",
            "-",
        ],
        INVOICE.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json error");
    assert_eq!(report["error"]["code"], "INVALID_INPUT");
    assert!(stderr(&o).contains("is not JSON"), "{}", stderr(&o));

    let o = pith(
        &["extract", "--schema", "/nonexistent/schema.json", "-"],
        INVOICE.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("could not read the schema"),
        "{}",
        stderr(&o)
    );
}
