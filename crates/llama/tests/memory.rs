//! Cache reuse on models whose memory is not a plain KV cache: two hybrids
//! (LFM2 layout: convolution layers beside attention; Granite 4.0 H
//! layout: Mamba-2 layers beside attention) and a sliding-window model
//! (Gemma 3 layout), written with random weights by
//! `models::synthetic`. Whatever the engine reuses — a prefix, a checkpoint,
//! a state file, a shared start copied across parallel sequences — greedy
//! output must equal evaluating the prompt from scratch.

use pith_core::engine::state::StateStore;
use pith_core::engine::{CancelToken, Engine, GenerateRequest, Generation, Prompt, SavedState};
use pith_core::models::architectures::Memory;
use pith_core::models::synthetic::Shape;
use pith_llama::{LlamaEngine, LoadOptions};
use std::path::{Path, PathBuf};

fn model(shape: Shape, dir: &Path) -> PathBuf {
    let path = dir.join(shape.file_name());
    // Weights large enough, and attention sharp enough, that the output
    // depends on tokens far back: a cache that lost some shows in the text
    // (measured: one word more at the start changes both models' answers).
    shape
        .write_with(&path, None, 0.02, 6.0)
        .expect("synthetic model written");
    path
}

fn load(path: &Path, states: Option<&Path>) -> LlamaEngine {
    let options = LoadOptions {
        context: Some(4096),
        states: states.map(StateStore::new),
        ..LoadOptions::default()
    };
    LlamaEngine::load(path, &options).expect("the synthetic model loads")
}

/// `n` words of the synthetic vocabulary from `from` on (about seven
/// tokens each: the tokenizer spells them out byte by byte).
fn words(from: u32, n: u32) -> String {
    (from..from + n)
        .map(|i| format!("w{}", 259 + (i % 40)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fixed instructions, then a text: the shape of a rewrite request.
fn request(instructions: &str, text: &str) -> GenerateRequest {
    let mut r = GenerateRequest::new(Prompt::Raw(format!("{instructions} {text}")), 24);
    r.saved_state = Some(SavedState {
        key: "synthetic-rewrite".into(),
        prefix_bytes: Some(instructions.len()),
    });
    r
}

fn run(e: &mut LlamaEngine, r: &GenerateRequest) -> Generation {
    e.generate(r, &CancelToken::new(), &mut |_| {})
        .expect("generates")
}

/// The same request on a fresh engine, nothing reused.
fn from_scratch(path: &Path, r: &GenerateRequest) -> String {
    let mut e = load(path, None);
    let mut plain = r.clone();
    plain.saved_state = None;
    let g = run(&mut e, &plain);
    assert_eq!(g.evaluated_prompt_tokens, g.prompt_tokens);
    g.text
}

fn each_layout(test: impl Fn(&Path, Shape)) {
    for shape in [Shape::TINY_HYBRID, Shape::TINY_MAMBA, Shape::TINY_SWA] {
        let dir = tempfile::tempdir().expect("tmp");
        let path = model(shape, dir.path());
        test(&path, shape);
    }
}

#[test]
fn the_engine_knows_how_each_model_keeps_its_memory() {
    let dir = tempfile::tempdir().expect("tmp");
    let hybrid = load(&model(Shape::TINY_HYBRID, dir.path()), None);
    assert_eq!(hybrid.memory(), Memory::Hybrid);
    assert_eq!(hybrid.info().architecture, "lfm2");
    let mamba = load(&model(Shape::TINY_MAMBA, dir.path()), None);
    assert_eq!(mamba.memory(), Memory::Hybrid);
    assert_eq!(mamba.info().architecture, "granitehybrid");
    let swa = load(&model(Shape::TINY_SWA, dir.path()), None);
    assert_eq!(swa.memory(), Memory::SlidingWindow { window: 32 });
    let plain = load(&model(Shape::TINY, dir.path()), None);
    assert_eq!(plain.memory(), Memory::Attention);
}

#[test]
fn a_second_request_with_the_same_instructions_reuses_them_and_answers_as_from_scratch() {
    each_layout(|path, shape| {
        let instructions = words(0, 60);
        let first = request(&instructions, &words(100, 50));
        let second = request(&instructions, &words(200, 40));
        let mut e = load(path, None);
        let a = run(&mut e, &first);
        let b = run(&mut e, &second);
        assert!(!a.text.is_empty() && !b.text.is_empty(), "{}", shape.name);
        assert_eq!(a.text, from_scratch(path, &first), "{}", shape.name);
        assert_eq!(b.text, from_scratch(path, &second), "{}", shape.name);
        // The instructions came from the cache, not read again.
        assert!(
            b.evaluated_prompt_tokens <= b.prompt_tokens - 60,
            "{}: {} of {}",
            shape.name,
            b.evaluated_prompt_tokens,
            b.prompt_tokens
        );
        // Asked again: only the last token is read (the checkpoint before it).
        let again = run(&mut e, &second);
        assert_eq!(again.text, b.text, "{}", shape.name);
        assert_eq!(again.evaluated_prompt_tokens, 1, "{}", shape.name);
    });
}

#[test]
fn a_state_restored_from_disk_answers_as_from_scratch() {
    each_layout(|path, shape| {
        let states = tempfile::tempdir().expect("tmp");
        let instructions = words(0, 80);
        let first = request(&instructions, &words(100, 30));
        let second = request(&instructions, &words(300, 30));
        run(&mut load(path, Some(states.path())), &first);
        // A new engine (the app restarted): the instructions come from disk.
        let mut e = load(path, Some(states.path()));
        let g = run(&mut e, &second);
        assert!(g.restored_prompt_tokens >= 70, "{}: {g:?}", shape.name);
        assert_eq!(g.text, from_scratch(path, &second), "{}", shape.name);
    });
}

#[test]
fn the_parallel_map_step_answers_as_one_at_a_time_from_scratch() {
    each_layout(|path, shape| {
        let instructions = words(0, 40);
        let requests: Vec<GenerateRequest> = (0..4)
            .map(|i| {
                let mut r = request(&instructions, &words(50 + 37 * i, 30 + 10 * i));
                r.saved_state = None;
                r
            })
            .collect();
        let mut e = load(path, None);
        // The single-sequence path's attention kernel: the same sums, so the
        // answers can be compared exactly (the default kernel rounds otherwise).
        e.set_batch_flash_attention(true);
        let batched = e
            .generate_batch(&requests, &CancelToken::new(), &mut |_, _| {})
            .expect("batch");
        for (r, g) in requests.iter().zip(&batched) {
            assert_eq!(g.text, from_scratch(path, r), "{}", shape.name);
        }
    });
}

#[test]
fn prompt_lookup_is_left_out_where_a_draft_cannot_be_taken_back() {
    // The sliding-window model loops, so lookup drafts (and cuts rejected
    // drafts off) while its window has not moved on; the hybrids never
    // draft. (Random weights rarely copy their prompt, so the hybrids'
    // guard is `Memory::lookup_safe`, tested in pith-core.)
    each_layout(|path, shape| {
        let text = format!("{} {}", words(100, 30), words(100, 30));
        let mut plain = request(&words(0, 20), &text);
        plain.saved_state = None;
        let with_lookup = plain.clone().with_lookup(true);
        let mut e = load(path, None);
        let g = run(&mut e, &with_lookup);
        assert_eq!(g.text, from_scratch(path, &plain), "{}", shape.name);
        if shape.name != Shape::TINY_SWA.name {
            assert_eq!(g.draft_tokens, 0);
        }
    });
}

#[test]
fn a_window_that_has_moved_on_is_not_cut_back_into() {
    // ~40 shared tokens, then ~900 more: the sliding-window layers' cells
    // (32 + 512) have been reused for later tokens, so the cache cannot
    // be cut back to the 40; the engine restores the checkpoint instead.
    let dir = tempfile::tempdir().expect("tmp");
    let path = model(Shape::TINY_SWA, dir.path());
    let instructions = words(0, 6);
    let long = request(&instructions, &words(100, 130));
    let short = request(&instructions, &words(7, 10));
    let mut e = load(&path, None);
    run(&mut e, &long);
    let g = run(&mut e, &short);
    assert_eq!(g.text, from_scratch(&path, &short));
    assert!(g.evaluated_prompt_tokens < g.prompt_tokens);
    // And without a checkpoint to restore, everything is read again.
    let mut e = load(&path, None);
    let mut long = long.clone();
    long.saved_state = None;
    let mut short = short.clone();
    short.saved_state = None;
    run(&mut e, &long);
    let g = run(&mut e, &short);
    assert_eq!(g.text, from_scratch(&path, &short));
}

#[test]
fn the_answers_depend_on_tokens_far_back() {
    // What makes the equality tests above able to fail: a word more ~40
    // tokens back in a 180-token prompt changes the answer.
    each_layout(|path, shape| {
        let text = words(100, 20);
        let mut plain = request(&words(0, 6), &text);
        plain.saved_state = None;
        let mut longer = request(&words(0, 6), &format!("w270 {text}"));
        longer.saved_state = None;
        assert_ne!(
            from_scratch(path, &plain),
            from_scratch(path, &longer),
            "{}",
            shape.name
        );
    });
}

#[test]
fn a_template_with_a_thinking_switch_is_rendered_with_thinking_off() {
    // Qwen3's generation prompt and switch, in a model file's metadata.
    const QWEN3: &str = "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}";
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("qwen3-like.gguf");
    Shape::TINY_HYBRID
        .write_with_template(&path, Some(QWEN3))
        .expect("written");
    let e = load(&path, None);
    let chat = Prompt::Chat(vec![pith_core::engine::ChatMessage::user("w300")]);
    let with_switch = e.prompt_tokens(&chat).expect("rendered");
    // The same conversation as raw text, thinking closed before the answer.
    let raw = Prompt::Raw(
        "<|im_start|>user\nw300<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n".into(),
    );
    assert_eq!(with_switch, e.prompt_tokens(&raw).expect("raw"));

    // A template that cannot be rendered is refused, not guessed at.
    let broken = dir.path().join("broken.gguf");
    Shape::TINY_HYBRID
        .write_with_template(&broken, Some("{% if enable_thinking %}{% for %}"))
        .expect("written");
    let e = load(&broken, None);
    let err = e.prompt_tokens(&chat).expect_err("refused");
    assert!(err.to_string().contains("chat template"), "{err}");
}
