//! LoRA adapters on the real default model (SmolLM2-135M-Instruct):
//! loaded with the model, switched per request, refused when made for
//! another model or damaged. The adapters are written by
//! `models::synthetic::write_lora` with the model's real shapes and random
//! weights: enough to show the adapter reaches the answer.

use pith_core::engine::{CancelToken, ChatMessage, Engine, GenerateRequest, Prompt};
use pith_core::models::synthetic::{write_lora, Shape, SHAPES};
use pith_core::models::{find_default_model, search_dirs};
use pith_core::ErrorCode;
use pith_llama::{LlamaEngine, LoadOptions};
use std::path::{Path, PathBuf};

fn default_model() -> PathBuf {
    find_default_model(&search_dirs())
        .expect("the default model is installed (scripts/fetch-models.sh)")
}

/// SmolLM2-135M's shape, as the planner bench writes it.
fn smollm2() -> Shape {
    SHAPES[0]
}

fn with_adapters(adapters: &[(&str, &Path)]) -> pith_core::Result<LlamaEngine> {
    let options = LoadOptions {
        adapters: adapters
            .iter()
            .map(|(n, p)| ((*n).to_string(), p.to_path_buf()))
            .collect(),
        ..LoadOptions::default()
    };
    LlamaEngine::load(&default_model(), &options)
}

fn answer(e: &mut LlamaEngine, adapter: Option<&str>) -> String {
    let mut r = GenerateRequest::new(
        Prompt::Chat(vec![ChatMessage::user("Name three fruits.")]),
        24,
    );
    r.adapter = adapter.map(str::to_string);
    e.generate(&r, &CancelToken::new(), &mut |_| {})
        .expect("generates")
        .text
}

#[test]
fn an_adapter_changes_the_answer_and_switching_back_restores_the_base_model() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("proofread.gguf");
    write_lora(&smollm2(), &file, 8, 0.2, 7).expect("adapter written");
    let base = answer(
        &mut LlamaEngine::load(&default_model(), &LoadOptions::default()).expect("loads"),
        None,
    );
    let mut e = with_adapters(&[("proofread", &file)]).expect("the adapter loads");
    assert_eq!(e.adapters(), vec!["proofread".to_string()]);
    assert_eq!(
        answer(&mut e, None),
        base,
        "no adapter asked: the base model"
    );
    let adapted = answer(&mut e, Some("proofread"));
    assert_ne!(adapted, base, "the adapter reaches the answer");
    // A switch starts from an empty cache: the same answer as an engine
    // that used the adapter from the start.
    let mut fresh = with_adapters(&[("proofread", &file)]).expect("loads");
    assert_eq!(answer(&mut fresh, Some("proofread")), adapted);
    assert_eq!(answer(&mut e, None), base, "switched back");
    // An adapter of a name that is not loaded: the base model answers.
    assert_eq!(answer(&mut e, Some("concise")), base);
}

#[test]
fn an_adapter_for_another_model_or_a_damaged_one_is_refused_and_the_model_still_loads() {
    let dir = tempfile::tempdir().expect("tmp");
    // Same architecture, other shapes.
    let small = dir.path().join("tiny.gguf");
    write_lora(&Shape::TINY, &small, 4, 0.1, 1).expect("written");
    let err = with_adapters(&[("proofread", &small)])
        .err()
        .expect("refused");
    assert_eq!(err.code(), ErrorCode::InvalidModel);
    assert!(err.to_string().contains("does not fit this model"), "{err}");
    // Another architecture.
    let gemma = dir.path().join("gemma.gguf");
    write_lora(&Shape::TINY_SWA, &gemma, 4, 0.1, 1).expect("written");
    let err = with_adapters(&[("proofread", &gemma)])
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("made for a \"gemma3\" model"),
        "{err}"
    );
    // Cut short.
    let good = dir.path().join("good.gguf");
    write_lora(&smollm2(), &good, 8, 0.2, 7).expect("written");
    let bytes = std::fs::read(&good).expect("read");
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let err = with_adapters(&[("proofread", &cut)])
        .err()
        .expect("refused");
    assert!(err.to_string().contains("not usable"), "{err}");
    // The base model keeps working.
    let mut e = LlamaEngine::load(&default_model(), &LoadOptions::default()).expect("loads");
    assert!(!answer(&mut e, None).is_empty());
}
