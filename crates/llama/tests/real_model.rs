//! The engine on the real default model (SmolLM2-135M-Instruct Q4_1) and the
//! Gemma 3 270M base model. Fetch them with `scripts/fetch-models.sh --all`.

use pith_core::engine::{
    is_looping, CancelToken, ChatMessage, Engine, GenerateRequest, Priority, Prompt, Sampling,
    StopReason, Worker,
};
use pith_core::models::{find_default_model, search_dirs};
use pith_core::tasks::check::check_rephrase;
use pith_core::tasks::rephrase::{rephrase, RephraseMode};
use pith_core::tasks::summarize::{summarize, SummaryLength};
use pith_core::{Error, ErrorCode};
use pith_llama::{LlamaEngine, LoadOptions};
use std::path::PathBuf;

fn default_model() -> PathBuf {
    find_default_model(&search_dirs())
        .expect("the default model is installed (scripts/fetch-models.sh)")
}

fn gemma_model() -> PathBuf {
    let path = default_model().with_file_name("gemma-3-270m-q4_k_m.gguf");
    assert!(
        path.is_file(),
        "the Gemma test model is installed (scripts/fetch-models.sh --all)"
    );
    path
}

fn engine() -> LlamaEngine {
    LlamaEngine::load(&default_model(), &LoadOptions::default()).expect("loads")
}

fn ask(question: &str, max_tokens: usize) -> GenerateRequest {
    GenerateRequest::new(Prompt::Chat(vec![ChatMessage::user(question)]), max_tokens)
}

fn generate(
    e: &mut LlamaEngine,
    req: &GenerateRequest,
) -> pith_core::Result<pith_core::engine::Generation> {
    e.generate(req, &CancelToken::new(), &mut |_| {})
}

#[test]
fn the_default_model_reports_its_metadata() {
    let e = engine();
    let info = e.info();
    assert_eq!(info.architecture, "llama");
    assert!(info.has_chat_template);
    assert!(
        (100_000_000..200_000_000).contains(&info.parameters),
        "{}",
        info.parameters
    );
    assert_eq!(info.layers, 30);
    assert!(info.context >= 2048);
    assert!(e.threads() >= 1);
}

#[test]
fn greedy_generation_is_deterministic_across_two_runs() {
    let req = ask("Name three fruits.", 32);
    let mut a = engine();
    let first = generate(&mut a, &req).expect("first");
    let again = generate(&mut a, &req).expect("again, with the prompt cached");
    let fresh = generate(&mut engine(), &req).expect("fresh engine");
    assert!(!first.text.trim().is_empty());
    assert_eq!(first.text, again.text);
    assert_eq!(first.text, fresh.text);
}

#[test]
fn two_engines_over_one_loaded_model_answer_alike_on_their_own_threads() {
    // The app's hotkey worker: a context of its own over the chat engine's
    // weights, on another thread, with a smaller window.
    let req = ask("Name three fruits.", 32);
    let mut main = engine();
    let shared = main.share();
    let options = LoadOptions {
        context: Some(2048),
        ..LoadOptions::default()
    };
    let hotkey = std::thread::spawn(move || {
        let mut e = LlamaEngine::with_model(&shared, &options).expect("a second context");
        assert_eq!(e.info().context, 2048);
        generate(&mut e, &ask("Name three fruits.", 32))
            .expect("generates")
            .text
    });
    let first = generate(&mut main, &req).expect("main engine");
    let second = hotkey.join().expect("thread");
    assert!(!first.text.trim().is_empty());
    assert_eq!(first.text, second, "same weights, same greedy answer");
    // The main engine's cache is its own: asking again reuses it.
    let again = generate(&mut main, &req).expect("again");
    assert_eq!(again.text, first.text);
}

#[test]
fn streamed_pieces_concatenate_to_the_final_text() {
    let mut e = engine();
    let mut pieces = Vec::new();
    let g = e
        .generate(
            &ask("Write two sentences about the sea.", 48),
            &CancelToken::new(),
            &mut |p| pieces.push(p.to_string()),
        )
        .expect("generates");
    assert!(pieces.len() > 3, "streamed in several pieces: {pieces:?}");
    assert_eq!(pieces.concat(), g.text);
}

#[test]
fn cancelling_mid_generation_returns_cancelled_and_the_next_request_works() {
    let mut e = engine();
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    let mut seen = 0;
    let err = e
        .generate(
            &ask("Tell me a long story about a dragon.", 200),
            &cancel,
            &mut |_| {
                seen += 1;
                if seen == 5 {
                    trigger.cancel();
                }
            },
        )
        .expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert_eq!(seen, 5, "no piece arrives after the cancel");
    let next =
        generate(&mut e, &ask("What is the capital of France?", 16)).expect("works after cancel");
    assert!(next.text.contains("Paris"), "{:?}", next.text);
}

#[test]
fn cancelling_during_prompt_evaluation_stops_it_and_the_engine_stays_usable() {
    let worker = Worker::spawn(|| LlamaEngine::load(&default_model(), &LoadOptions::default()))
        .expect("worker");
    // ~3,000 prompt tokens: evaluating them takes far longer than the cancel below.
    let long = "The committee reviewed the budget and the schedule in detail. ".repeat(300);
    let ticket = worker.submit(Priority::Normal, move |e: &mut LlamaEngine, cancel| {
        e.generate(&ask(&long, 16), cancel, &mut |_| {})
    });
    std::thread::sleep(std::time::Duration::from_millis(30));
    ticket.cancel();
    let err = ticket.wait().expect("ran").expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::Cancelled);
    let pre_cancelled = worker.submit(Priority::Normal, |e: &mut LlamaEngine, cancel| {
        e.generate(&ask("Hello", 8), cancel, &mut |_| {})
    });
    pre_cancelled.cancel();
    assert_eq!(
        pre_cancelled
            .wait()
            .expect("ran")
            .expect_err("cancelled")
            .code(),
        ErrorCode::Cancelled
    );
    let ok = worker
        .run(Priority::Normal, |e: &mut LlamaEngine, cancel| {
            e.generate(&ask("Say hello.", 8), cancel, &mut |_| {})
        })
        .expect("ran");
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn an_over_long_prompt_returns_context_too_long_with_the_numbers() {
    let mut e = engine();
    let context = e.info().context as usize;
    let long = "word ".repeat(context + 100);
    let err = generate(&mut e, &ask(&long, 64)).expect_err("too long");
    match err {
        Error::ContextTooLong {
            prompt_tokens,
            reserved_tokens,
            context_tokens,
        } => {
            assert!(prompt_tokens > context);
            assert_eq!(reserved_tokens, 64);
            assert_eq!(context_tokens, context);
        }
        other => panic!("expected CONTEXT_TOO_LONG, got {other:?}"),
    }
}

#[test]
fn emoji_and_cjk_text_comes_back_intact() {
    let mut e = engine();
    let pattern = "東京 🎉 日本語 🍣 ".repeat(6);
    let req = GenerateRequest::new(Prompt::Raw(pattern.clone()), 24);
    let mut pieces = String::new();
    let g = e
        .generate(&req, &CancelToken::new(), &mut |p| pieces.push_str(p))
        .expect("generates");
    assert!(
        !g.text.contains('\u{fffd}'),
        "a character was split: {:?}",
        g.text
    );
    assert!(!g.text.is_ascii(), "continues the pattern: {:?}", g.text);
    assert_eq!(pieces, g.text);
    assert!(e.count_tokens(&pattern).expect("counts") > 20);
}

#[test]
fn stop_strings_end_generation_and_are_not_returned() {
    let mut e = engine();
    let req = GenerateRequest::new(Prompt::Raw("1, 2, 3, 4, 5,".into()), 40).with_stop([" 9"]);
    let g = generate(&mut e, &req).expect("generates");
    assert_eq!(g.stop_reason, StopReason::StopString, "{:?}", g.text);
    assert!(
        g.text.contains('8') && !g.text.contains('9'),
        "{:?}",
        g.text
    );
}

#[test]
fn a_follow_up_with_the_same_start_evaluates_only_the_new_tokens() {
    let mut e = engine();
    let mut history = vec![ChatMessage::user("What is the capital of France?")];
    let first = generate(
        &mut e,
        &GenerateRequest::new(Prompt::Chat(history.clone()), 16),
    )
    .expect("first");
    assert_eq!(first.evaluated_prompt_tokens, first.prompt_tokens);
    history.push(ChatMessage::assistant(first.text.clone()));
    history.push(ChatMessage::user("And of Italy?"));
    let req = GenerateRequest::new(Prompt::Chat(history), 16);
    let second = generate(&mut e, &req).expect("second");
    let new_tokens = second.prompt_tokens - first.prompt_tokens;
    assert!(
        second.evaluated_prompt_tokens <= new_tokens + first.generated_tokens + 2,
        "evaluated {} of {} tokens; only ~{} are new",
        second.evaluated_prompt_tokens,
        second.prompt_tokens,
        new_tokens
    );
    assert!(second.evaluated_prompt_tokens < second.prompt_tokens / 2);
}

/// The hotkey's path: with a mode's fixed instructions already evaluated,
/// a key press evaluates the user's text (and the line after it) only.
#[test]
fn a_key_press_evaluates_only_the_users_text_when_the_instructions_are_cached() {
    use pith_core::tasks::rephrase::{build_request, completion_prefix, Strategy};
    let mut e = engine();
    let text = "me and my freind goes to the market every saturday morning to buy fresh bread.";
    for mode in [RephraseMode::Rewrite, RephraseMode::Proofread] {
        let req = build_request(text, mode, Strategy::Completion, 64);
        let prefix = completion_prefix(mode);
        let prefix_tokens = e
            .prompt_tokens(&Prompt::Raw(prefix.clone()))
            .expect("count");
        e.clear_cache();
        let cold = generate(&mut e, &req).expect("cold");
        assert_eq!(cold.evaluated_prompt_tokens, cold.prompt_tokens);
        e.clear_cache();
        generate(&mut e, &GenerateRequest::new(Prompt::Raw(prefix), 1)).expect("warm-up");
        let warm = generate(&mut e, &req).expect("warm");
        let users = warm.prompt_tokens - prefix_tokens;
        assert!(
            warm.evaluated_prompt_tokens <= users + 2,
            "{mode}: evaluated {} tokens; the text and its label are {users}",
            warm.evaluated_prompt_tokens
        );
        assert!(warm.evaluated_prompt_tokens >= users.saturating_sub(2));
        // The words may differ from the cold run's: the instructions
        // evaluated in another batch split can move the last bits of a
        // logit. A rewrite comes either way.
        assert!(!warm.text.trim().is_empty(), "{mode}");
    }
}

#[test]
fn sampling_with_a_seed_is_reproducible_and_differs_from_other_seeds() {
    let mut e = engine();
    let with = |seed| {
        ask("Write a short poem about autumn.", 24).with_sampling(Sampling {
            temperature: 1.0,
            seed,
            ..Sampling::default()
        })
    };
    let a = generate(&mut e, &with(1)).expect("a").text;
    let b = generate(&mut e, &with(1)).expect("b").text;
    let outputs: Vec<String> = (2..6)
        .map(|s| generate(&mut e, &with(s)).expect("c").text)
        .collect();
    assert_eq!(a, b);
    assert!(
        outputs.iter().any(|o| *o != a),
        "different seeds give different text"
    );
}

const PREAMBLES: &[&str] = &[
    "sure",
    "here is",
    "here's",
    "certainly",
    "corrected:",
    "rewritten:",
];

fn assert_clean(text: &str) {
    let lower = text.to_lowercase();
    assert!(!text.trim().is_empty());
    assert!(
        !PREAMBLES.iter().any(|p| lower.starts_with(p)),
        "preamble: {text:?}"
    );
    let words: Vec<&str> = text.split_whitespace().collect();
    assert!(!is_looping(&words, 12, 24), "loop: {text:?}");
}

#[test]
fn proofread_fixes_errors_and_passes_the_check() {
    let mut e = engine();
    let input = "i wanted to let you know that the delivery of the new office chairs has been moved to next tuesday because the supplier had problems with there trucks";
    let r = rephrase(
        &mut e,
        input,
        RephraseMode::Proofread,
        &CancelToken::new(),
        &mut |_, _| {},
    )
    .expect("proofread");
    assert_clean(&r.text);
    assert_eq!(
        check_rephrase(input, &r.text, RephraseMode::Proofread),
        Ok(())
    );
    assert_ne!(r.text, input, "an error was fixed");
}

#[test]
fn rewrite_concise_and_bullets_give_clean_checked_results() {
    let mut e = engine();
    let input = "i wanted to let you know that the delivery of the new office chairs has been moved to next tuesday because the supplier had problems with there trucks";
    for mode in [
        RephraseMode::Rewrite,
        RephraseMode::Concise,
        RephraseMode::Bullets,
    ] {
        let r =
            rephrase(&mut e, input, mode, &CancelToken::new(), &mut |_, _| {}).expect("rephrased");
        assert_clean(&r.text);
        assert_eq!(check_rephrase(input, &r.text, mode), Ok(()), "{mode}");
    }
}

#[test]
fn every_mode_either_passes_the_check_or_says_why_it_failed() {
    let mut e = engine();
    let input = "Please send me the signed contract by Friday, otherwise the project start moves to next month.";
    for mode in RephraseMode::ALL {
        match rephrase(&mut e, input, mode, &CancelToken::new(), &mut |_, _| {}) {
            Ok(r) => {
                assert_clean(&r.text);
                assert_eq!(check_rephrase(input, &r.text, mode), Ok(()), "{mode}");
            }
            Err(err) => {
                assert_eq!(err.code(), ErrorCode::ResultRejected, "{mode}: {err}");
                assert!(err.to_string().contains("larger model"), "{err}");
            }
        }
    }
}

#[test]
fn the_check_rejects_the_real_model_answering_instead_of_rewriting() {
    // Sent as a chat message, the model replies to the text: exactly what a
    // rewrite must not do.
    let mut e = engine();
    let input = "Can you send me the invoice for last month?";
    let reply = generate(&mut e, &ask(input, 48)).expect("replies").text;
    let verdict = check_rephrase(input, &reply, RephraseMode::Friendly);
    assert!(
        verdict.is_err(),
        "a chat reply passed as a rewrite: {reply:?}"
    );
}

#[test]
fn the_tone_rewrite_that_answers_instead_is_refused_not_returned() {
    let mut e = engine();
    let input = "i wanted to let you know that the delivery of the new office chairs has been moved to next tuesday because the supplier had problems with there trucks";
    let err = rephrase(
        &mut e,
        input,
        RephraseMode::Friendly,
        &CancelToken::new(),
        &mut |_, _| {},
    )
    .expect_err("this model cannot do it");
    assert_eq!(err.code(), ErrorCode::ResultRejected);
}

const NOTICE: &str = "From 3 March, the city library will open at 9:00 instead of 10:00 on weekdays. \
Saturday hours stay the same, 10:00 to 16:00, and the library remains closed on Sundays.\n\n\
The change follows a survey in which 1,200 residents took part. Most asked for earlier opening so \
they could visit before work. The library will also add two study rooms that can be booked online.\n\n\
Staff numbers do not change; the earlier start is covered by moving the evening closing time from \
20:00 to 19:00.";

#[test]
fn summarize_gives_a_short_faithful_clean_summary() {
    let mut e = engine();
    let mut streamed = String::new();
    let s = summarize(
        &mut e,
        NOTICE,
        SummaryLength::Short,
        &CancelToken::new(),
        &mut |attempt, p| {
            if attempt == 1 {
                streamed.push_str(p)
            }
        },
    )
    .expect("summary");
    assert_clean(&s.text);
    assert!(s.text.split_whitespace().count() < NOTICE.split_whitespace().count() * 7 / 10);
    assert!(s.text.contains("9:00"), "{:?}", s.text);
    if s.attempts == 1 {
        assert_eq!(streamed, s.text);
    }
}

#[test]
fn the_gemma_base_model_answers_through_the_fallback_format() {
    let mut e = LlamaEngine::load(&gemma_model(), &LoadOptions::default()).expect("loads");
    assert!(!e.info().has_chat_template);
    assert_eq!(e.info().architecture, "gemma3");
    let g = generate(&mut e, &ask("What is the capital of France?", 24)).expect("answers");
    assert!(!g.text.trim().is_empty());
    assert!(!g.text.contains("User:"), "{:?}", g.text);
}

#[test]
fn bad_model_files_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("missing.gguf");
    let err = LlamaEngine::load(&missing, &LoadOptions::default())
        .err()
        .expect("missing");
    assert_eq!(err.code(), ErrorCode::ModelNotFound);

    let real = std::fs::read(default_model()).expect("reads");
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &real[..real.len() / 2]).expect("writes");
    let err = LlamaEngine::load(&truncated, &LoadOptions::default())
        .err()
        .expect("truncated");
    assert_eq!(err.code(), ErrorCode::InvalidModel);
    assert!(err.to_string().contains("truncated"), "{err}");

    let renamed = dir.path().join("photo.gguf");
    std::fs::write(&renamed, b"\x89PNG\r\n\x1a\n0000000000000000").expect("writes");
    let err = LlamaEngine::load(&renamed, &LoadOptions::default())
        .err()
        .expect("not gguf");
    assert_eq!(err.code(), ErrorCode::InvalidModel);
    assert!(err.to_string().contains("not a GGUF file"), "{err}");
}

#[test]
fn truncations_of_the_real_model_are_all_refused() {
    let real = std::fs::read(default_model()).expect("reads");
    let cuts = (0..real.len())
        .step_by(real.len() / 97 + 1)
        .chain((0..8192).step_by(61))
        .chain([real.len() - 1]);
    for len in cuts {
        let r =
            pith_core::models::gguf::inspect_reader(std::io::Cursor::new(&real[..len]), len as u64);
        assert!(r.is_err(), "a file cut to {len} bytes was accepted");
    }
    assert!(pith_core::models::gguf::inspect_reader(
        std::io::Cursor::new(&real),
        real.len() as u64
    )
    .is_ok());
}

mod conversations {
    use super::*;
    use pith_core::history::{History, MessageStatus};
    use pith_core::tasks::conversation::{chat_turn, UNTITLED};
    use std::sync::Mutex;

    #[test]
    fn a_conversation_longer_than_the_window_stays_within_it_and_keeps_a_running_summary() {
        let options = LoadOptions {
            context: Some(512),
            ..LoadOptions::default()
        };
        let mut e = LlamaEngine::load(&default_model(), &options).expect("loads");
        let mut h = History::open_in_memory().expect("store");
        let c = h.create_conversation(UNTITLED, None).expect("conversation");
        let store = Mutex::new(h);
        let questions = [
            "We are planning a week in Lisbon in May with two children. What neighbourhoods are good to stay in, and why?",
            "We will arrive on a Tuesday evening by plane. How do we get from the airport to the city centre with luggage?",
            "On Wednesday we want to visit the aquarium and the riverside. How long should we plan, and where can we eat?",
            "Thursday is for Sintra. Which palace is best for children, and how early should we leave to avoid queues?",
            "Friday we want a beach day. Which beach is easy to reach by train, and what should we bring with us?",
            "Please list the whole plan for the week again, day by day, with the travel times between the places.",
        ];
        let mut folded = 0;
        for q in questions {
            let turn = chat_turn(&mut e, &store, c, q, None, &CancelToken::new(), &mut |_| {})
                .expect("every turn fits");
            let budget = pith_core::tasks::conversation::reply_budget(512);
            assert!(
                turn.generation.prompt_tokens + budget <= 512,
                "prompt {} tokens",
                turn.generation.prompt_tokens
            );
            folded += turn.folded;
        }
        let h = store.lock().expect("lock");
        let conv = h.conversation(c).expect("conversation");
        assert!(folded > 0, "older turns were folded");
        let summary = conv.summary.expect("a running summary is stored");
        assert!(summary.split_whitespace().count() >= 3, "{summary:?}");
        let messages = h.messages(c).expect("messages");
        assert_eq!(messages.len(), 12, "nothing was deleted");
        assert!(messages.iter().all(|m| m.status == MessageStatus::Complete));
        assert_ne!(conv.title, UNTITLED);
    }

    #[test]
    fn a_follow_up_turn_in_a_stored_conversation_evaluates_only_the_new_tokens() {
        let mut e = engine();
        let mut h = History::open_in_memory().expect("store");
        let c = h.create_conversation(UNTITLED, None).expect("conversation");
        let store = Mutex::new(h);
        let first = chat_turn(
            &mut e,
            &store,
            c,
            "What is the capital of France?",
            None,
            &CancelToken::new(),
            &mut |_| {},
        )
        .expect("first");
        let second = chat_turn(
            &mut e,
            &store,
            c,
            "And of Italy?",
            None,
            &CancelToken::new(),
            &mut |_| {},
        )
        .expect("second");
        let g = &second.generation;
        assert!(g.prompt_tokens > first.generation.prompt_tokens);
        assert!(
            g.evaluated_prompt_tokens <= g.prompt_tokens - first.generation.prompt_tokens + 2,
            "evaluated {} of {}; the first turn's {} prompt tokens were cached",
            g.evaluated_prompt_tokens,
            g.prompt_tokens,
            first.generation.prompt_tokens
        );
        assert!(second.reply.contains("Rome"), "{:?}", second.reply);
    }

    #[test]
    fn switching_between_conversations_gives_the_same_replies_as_a_fresh_engine() {
        let mut shared = engine();
        let mut h = History::open_in_memory().expect("store");
        let a = h.create_conversation(UNTITLED, None).expect("a");
        let b = h.create_conversation(UNTITLED, None).expect("b");
        let store = Mutex::new(h);
        let c = CancelToken::new();
        chat_turn(
            &mut shared,
            &store,
            a,
            "What is the capital of France?",
            None,
            &c,
            &mut |_| {},
        )
        .expect("a1");
        chat_turn(
            &mut shared,
            &store,
            b,
            "Name three colors.",
            None,
            &c,
            &mut |_| {},
        )
        .expect("b1");
        let a2 = chat_turn(
            &mut shared,
            &store,
            a,
            "And of Italy?",
            None,
            &c,
            &mut |_| {},
        )
        .expect("a2");

        // The same conversation A, replayed on an engine that never saw B.
        let mut fresh = engine();
        let mut h2 = History::open_in_memory().expect("store");
        let a_only = h2.create_conversation(UNTITLED, None).expect("a");
        let store2 = Mutex::new(h2);
        chat_turn(
            &mut fresh,
            &store2,
            a_only,
            "What is the capital of France?",
            None,
            &c,
            &mut |_| {},
        )
        .expect("a1");
        let expected = chat_turn(
            &mut fresh,
            &store2,
            a_only,
            "And of Italy?",
            None,
            &c,
            &mut |_| {},
        )
        .expect("a2");
        assert_eq!(a2.reply, expected.reply);
    }
}

mod model_files {
    use super::*;

    #[test]
    fn a_model_too_big_for_memory_is_refused_before_loading_unless_forced() {
        // A context of a billion tokens needs petabytes of KV cache.
        let huge = LoadOptions {
            context: Some(1 << 30),
            ..LoadOptions::default()
        };
        let err = LlamaEngine::load(&default_model(), &huge)
            .err()
            .expect("refused");
        assert_eq!(err.code(), ErrorCode::OutOfMemory);
        let msg = err.to_string();
        assert!(msg.contains("1073741824-token context"), "{msg}");
        assert!(msg.contains("--force"), "{msg}");
        // Forced, it loads: the context is then bounded by the model's own.
        let forced = LoadOptions {
            context: Some(1 << 30),
            force: true,
            ..LoadOptions::default()
        };
        let e = LlamaEngine::load(&default_model(), &forced).expect("forced load");
        assert_eq!(e.info().context, 8192);
    }

    #[test]
    fn every_truncation_of_the_real_model_is_refused_without_panic() {
        let bytes = std::fs::read(default_model()).expect("read");
        let check = |len: usize| {
            pith_core::models::gguf::inspect_reader(std::io::Cursor::new(&bytes[..len]), len as u64)
        };
        assert!(check(bytes.len()).is_ok());
        // Every length through the first 4 KiB, then 1,500 spread over the file
        // (the header, with its 49,152-token vocabulary, and the tensor data).
        let spread = (1..1500).map(|i| bytes.len() / 1500 * i + i % 7);
        for len in (0..4096).chain(spread) {
            assert!(check(len).is_err(), "truncated to {len} bytes was accepted");
        }
    }

    #[test]
    fn the_header_gives_the_shape_the_planner_needs() {
        let path = default_model();
        let s = pith_core::models::check_model_file(&path).expect("valid");
        assert_eq!(s.block_count, Some(30));
        assert_eq!(s.embedding_length, Some(576));
        assert_eq!(s.head_count, Some(9));
        assert_eq!(s.head_count_kv, Some(3));
        assert_eq!(s.vocab_size, Some(49152));
        let gemma = pith_core::models::check_model_file(&gemma_model()).expect("valid");
        assert_eq!(gemma.sliding_window, Some(512));
        assert_eq!(gemma.key_length, Some(256));
    }
}

mod latency {
    use super::*;
    use pith_core::engine::lookup::{self, DraftPolicy};
    use pith_core::engine::state::StateStore;
    use pith_core::tasks::rephrase::{build_request, Strategy};

    /// Sentences with the kind of slips people make, built from word lists.
    fn sentences() -> Vec<String> {
        let who = ["i", "we", "my manager", "the team", "our client"];
        let did = [
            "recieved the report yesterday",
            "will send there answer tomorow",
            "has moved the meeting to thursday",
            "dont know if the budget was aproved",
            "wants to discuss the new office plans",
        ];
        let why = [
            "because the printer was broken",
            "so please check you're inbox",
            "and we need to prepare the slides untill noon",
            "but nobody told the other departement",
        ];
        let mut out = Vec::new();
        for (i, w) in who.iter().enumerate() {
            for (j, d) in did.iter().enumerate() {
                let y = why[(i + j) % why.len()];
                out.push(format!("{w} {d} {y}."));
            }
        }
        out
    }

    fn run(e: &mut LlamaEngine, req: &GenerateRequest) -> pith_core::engine::Generation {
        e.generate(req, &CancelToken::new(), &mut |_| {})
            .expect("generates")
    }

    /// An engine that verifies every draft, paying or not, so that the
    /// verification path runs on this machine.
    fn drafting_engine() -> LlamaEngine {
        let mut e = engine();
        e.set_draft_policy(DraftPolicy::fixed(lookup::MAX_DRAFT));
        e
    }

    #[test]
    fn prompt_lookup_gives_exactly_the_plain_output() {
        let mut e = drafting_engine();
        let (mut drafted, mut accepted) = (0, 0);
        let texts = sentences();
        for (i, text) in texts.iter().enumerate() {
            let mode = [
                RephraseMode::Proofread,
                RephraseMode::Rewrite,
                RephraseMode::Concise,
            ][i % 3];
            let with = build_request(text, mode, Strategy::Completion, 80);
            let plain = with.clone().with_lookup(false);
            e.clear_cache();
            let a = run(&mut e, &plain);
            e.clear_cache();
            let b = run(&mut e, &with);
            assert_eq!(a.text, b.text, "{mode:?}: {text}");
            assert_eq!(a.stop_reason, b.stop_reason);
            assert_eq!(a.draft_tokens, 0);
            drafted += b.draft_tokens;
            accepted += b.draft_accepted;
        }
        // Drafts were verified, and some were kept.
        assert!(
            drafted > 100 && accepted > 20,
            "{accepted} of {drafted} drafted tokens kept"
        );
    }

    #[test]
    fn a_quotes_summary_with_prompt_lookup_equals_the_plain_one() {
        use pith_core::tasks::summarize::{self, SummaryLength, STRATEGIES};
        let text = "The library on Elm Street reopens on 4 May after a year of repairs. \
            The new roof cost 2 million euros. \
            Opening hours are 9 to 18 on weekdays and 10 to 14 on Saturdays. \
            Children under twelve borrow books for free.";
        let mut e = drafting_engine();
        let mut drafted = 0;
        for strategy in STRATEGIES {
            let mut with = summarize::build_request(text, SummaryLength::Quotes, strategy);
            assert!(with.lookup, "{strategy:?}");
            // Prompt and answer stay within 256 tokens (see the next test).
            with.max_tokens = 100;
            let plain = with.clone().with_lookup(false);
            e.clear_cache();
            let a = run(&mut e, &plain);
            e.clear_cache();
            let b = run(&mut e, &with);
            assert!(b.prompt_tokens + b.generated_tokens < 256);
            assert_eq!(a.text, b.text, "{strategy:?}");
            drafted += b.draft_tokens;
        }
        assert!(drafted > 0, "the quotes were drafted from the text");
    }

    #[test]
    fn a_batch_gives_the_logits_of_its_tokens_decoded_one_at_a_time() {
        // What the exact-output tests above stand on: verifying a draft of
        // up to MAX_DRAFT tokens in one batch computes, bit for bit, what
        // plain decoding computes token by token (for this model, with
        // fewer than 256 tokens in the cache; see `exact_batch`).
        let mut e = engine();
        let max = lookup::MAX_DRAFT + 1;
        assert_eq!(e.exact_batch(100, max).expect("decodes"), max);
    }

    #[test]
    fn prompt_lookup_keeps_a_sampled_output_unchanged_too() {
        // Each kept token is the one the sampler chose at its place, with the
        // same random draws in the same order: the same seed gives the same text.
        let mut e = drafting_engine();
        for (i, text) in sentences().iter().take(8).enumerate() {
            let with = build_request(
                text,
                RephraseMode::Friendly,
                Strategy::CompletionSampled,
                80,
            )
            .with_sampling(Sampling {
                temperature: 0.8,
                seed: 1000 + i as u32,
                ..Sampling::default()
            });
            let plain = with.clone().with_lookup(false);
            e.clear_cache();
            let a = run(&mut e, &plain);
            e.clear_cache();
            let b = run(&mut e, &with);
            assert_eq!(a.text, b.text, "{text}");
        }
    }

    /// The state files (not their checks) in a store, sorted.
    fn kv_files(store: &StateStore) -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(&store.dir)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "kv"))
            .collect();
        v.sort();
        v
    }

    fn store() -> (tempfile::TempDir, StateStore) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = StateStore::new(dir.path().join("state"));
        (dir, store)
    }

    fn with_states(path: &std::path::Path, store: &StateStore) -> LlamaEngine {
        let options = LoadOptions {
            states: Some(store.clone()),
            ..LoadOptions::default()
        };
        LlamaEngine::load(path, &options).expect("loads")
    }

    /// A conversation's first turns, and the request for its next turn.
    fn conversation(turns: usize) -> GenerateRequest {
        let mut messages = Vec::new();
        for day in ["Monday", "Tuesday", "Wednesday"].iter().take(turns) {
            messages.push(ChatMessage::user(format!(
                "What should we visit in Lisbon on {day} with two children who like boats?"
            )));
            messages.push(ChatMessage::assistant(
                "Take the ferry across the river in the morning, then walk along the water to the \
                 aquarium, and keep the afternoon calm with a picnic in a park near the hotel.",
            ));
        }
        messages.push(ChatMessage::user("And where can we eat near the aquarium?"));
        GenerateRequest::new(Prompt::Chat(messages), 24).with_saved_state("conversation-1", None)
    }

    #[test]
    fn a_saved_state_restored_by_a_new_engine_gives_the_same_next_tokens() {
        let (_dir, store) = store();
        let turn1 = conversation(2);
        // The original: turn 1, then turn 2 on the state still in memory.
        let mut e = with_states(&default_model(), &store);
        let reply = run(&mut e, &turn1).text;
        let Prompt::Chat(mut messages) = turn1.prompt.clone() else {
            unreachable!("a chat")
        };
        messages.push(ChatMessage::assistant(reply));
        messages.push(ChatMessage::user(
            "Is there a playground near the aquarium?",
        ));
        let turn2 = GenerateRequest::new(Prompt::Chat(messages), 24)
            .with_saved_state("conversation-1", None);
        let files = kv_files(&store);
        assert_eq!(files.len(), 1, "one state file for the conversation");
        let file = files[0].clone();
        let check = file.with_extension("kv.check");
        let after_turn1 = (
            std::fs::read(&file).expect("read"),
            std::fs::read(&check).expect("its check"),
        );
        let original = run(&mut e, &turn2);
        drop(e);

        // After a restart: turn 2 from the state saved after turn 1.
        std::fs::write(&file, &after_turn1.0).expect("put back");
        std::fs::write(&check, &after_turn1.1).expect("put back");
        let mut e = with_states(&default_model(), &store);
        let restored = run(&mut e, &turn2);
        assert_eq!(restored.text, original.text);
        assert!(
            restored.restored_prompt_tokens > 100,
            "{}",
            restored.restored_prompt_tokens
        );
        assert_eq!(
            restored.evaluated_prompt_tokens,
            original.evaluated_prompt_tokens
        );
        assert!(restored.evaluated_prompt_tokens < req_tokens(&e, &turn2) / 3);

        // Another model never sees this state: it evaluates everything.
        let mut g = with_states(&gemma_model(), &store);
        let other = run(&mut g, &turn2);
        assert_eq!(other.restored_prompt_tokens, 0);
        assert_eq!(kv_files(&store).len(), 2);
    }

    /// The model part of a state file's name (`<key>--<model>.kv`).
    fn state_model(path: &std::path::Path) -> String {
        let name = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        name.split_once("--").expect("key--model").1.to_string()
    }

    fn req_tokens(e: &LlamaEngine, req: &GenerateRequest) -> usize {
        e.prompt_tokens(&req.prompt).expect("tokens")
    }

    #[test]
    fn a_changed_prompt_or_a_damaged_file_is_refused_and_rebuilt() {
        let (_dir, store) = store();
        let text = "the meeting has been moved to thursday, please tell the others";
        let req = build_request(text, RephraseMode::Proofread, Strategy::Completion, 40);
        let reference = run(&mut engine(), &req.clone().with_lookup(false));

        let mut e = with_states(&default_model(), &store);
        let first = run(&mut e, &req);
        let state = kv_files(&store).pop().expect("a state file");
        drop(e);

        // The instructions' state comes back in a new engine.
        let mut e = with_states(&default_model(), &store);
        let restored = run(&mut e, &req);
        assert!(
            restored.restored_prompt_tokens > 50,
            "{}",
            restored.restored_prompt_tokens
        );
        assert_eq!(restored.text, first.text);
        assert_eq!(restored.text, reference.text);
        drop(e);

        // A state whose tokens are another prompt's is refused and rebuilt.
        let chat = conversation(1);
        let chat_state = store.path("conversation-1", &state_model(&state));
        // Copied with its check, so that llama.cpp really reads it and Pith
        // refuses it on its tokens.
        std::fs::copy(&state, &chat_state).expect("copy");
        std::fs::copy(
            state.with_extension("kv.check"),
            chat_state.with_extension("kv.check"),
        )
        .expect("copy");
        let mut e = with_states(&default_model(), &store);
        let g = run(&mut e, &chat);
        assert_eq!(
            g.restored_prompt_tokens, 0,
            "a rephrase prompt's state is not a chat's"
        );
        assert_ne!(
            std::fs::read(&chat_state).expect("read"),
            std::fs::read(&state).expect("read"),
            "rebuilt for the chat"
        );
        drop(e);

        // A truncated file is treated as absent, and rewritten whole.
        let full = std::fs::metadata(&state).expect("meta").len();
        let bytes = std::fs::read(&state).expect("read");
        std::fs::write(&state, &bytes[..bytes.len() / 2]).expect("truncate");
        let mut e = with_states(&default_model(), &store);
        let after = run(&mut e, &req);
        assert_eq!(after.restored_prompt_tokens, 0);
        assert_eq!(after.text, reference.text);
        assert_eq!(std::fs::metadata(&state).expect("meta").len(), full);
    }
}

#[test]
fn parallel_sequences_give_each_request_its_own_answer() {
    let mut e = engine();
    assert_eq!(e.parallel_sequences(), pith_llama::PARALLEL);
    let questions = [
        "What is the capital of France?",
        "Name three colours of the rainbow.",
        "Write one sentence about cats.",
        "What is two plus two?",
    ];
    let run = |e: &mut LlamaEngine, order: &[usize]| {
        let requests: Vec<GenerateRequest> = order.iter().map(|&i| ask(questions[i], 24)).collect();
        let mut streamed = vec![String::new(); requests.len()];
        let out = e
            .generate_batch(&requests, &CancelToken::new(), &mut |i, p| {
                streamed[i].push_str(p)
            })
            .expect("batch");
        for (g, s) in out.iter().zip(&streamed) {
            assert_eq!(&g.text, s, "streamed pieces add up");
        }
        out
    };
    let first = run(&mut e, &[0, 1, 2, 3]);
    // The same questions in another order: each sequence attends only to its
    // own tokens, so every answer is the same wherever it sits in the batch.
    let permuted = run(&mut e, &[3, 2, 0, 1]);
    let by_question = |out: &[pith_core::engine::Generation], order: &[usize], q: usize| {
        out[order.iter().position(|&i| i == q).expect("in batch")]
            .text
            .clone()
    };
    for q in 0..4 {
        let a = by_question(&first, &[0, 1, 2, 3], q);
        let b = by_question(&permuted, &[3, 2, 0, 1], q);
        eprintln!("{q}: {a:?}");
        assert_eq!(a, b, "question {q}");
        assert!(!a.trim().is_empty());
    }
    assert!(first[0].text.contains("Paris"), "{}", first[0].text);
    for (g, q) in first.iter().zip(questions) {
        let alone = generate(&mut e, &ask(q, 24)).expect("alone");
        assert_eq!(g.prompt_tokens, alone.prompt_tokens);
    }
    // Five requests run as a batch of four and one; the cache is usable after.
    let five: Vec<GenerateRequest> = questions
        .iter()
        .chain(["Say hello."].iter())
        .map(|q| ask(q, 8))
        .collect();
    let out = e
        .generate_batch(&five, &CancelToken::new(), &mut |_, _| {})
        .expect("five");
    assert_eq!(out.len(), 5);
    assert!(!generate(&mut e, &ask("Hi", 4))
        .expect("after")
        .text
        .is_empty());
}

mod pool {
    use super::*;
    use pith_core::engine::Backend;
    use pith_llama::ModelPool;

    fn paths() -> Vec<(String, PathBuf)> {
        vec![
            ("small".to_string(), default_model()),
            ("gemma".to_string(), gemma_model()),
        ]
    }

    #[test]
    fn two_models_stay_loaded_when_both_fit() {
        let hw = pith_core::hardware::probe_memory();
        let mut pool = ModelPool::new(&paths(), &hw, u64::MAX, LoadOptions::default());
        let candidates = pool.candidates();
        assert!(candidates.iter().all(|c| c.fits));
        assert!(candidates[1].parameters > candidates[0].parameters);
        let (_, note) = pool.engine("small").expect("small");
        assert_eq!(note, None);
        let (e, note) = pool.engine("gemma").expect("gemma");
        assert_eq!(note, None);
        let g = e
            .generate(&ask("Hi", 4), &CancelToken::new(), &mut |_| {})
            .expect("answers");
        assert!(g.generated_tokens > 0);
        assert_eq!(pool.loaded(), ["small", "gemma"]);
        assert!(pool.swaps.is_empty());
    }

    #[test]
    fn a_second_model_that_does_not_fit_beside_the_first_swaps_it_out() {
        let hw = pith_core::hardware::probe_memory();
        let probe = ModelPool::new(&paths(), &hw, u64::MAX, LoadOptions::default());
        let largest = probe
            .models()
            .iter()
            .map(|m| m.bytes)
            .max()
            .expect("models");
        // Room for either model alone, not for both.
        let mut pool = ModelPool::new(&paths(), &hw, largest + 1, LoadOptions::default());
        pool.engine("small").expect("small");
        let (e, note) = pool.engine("gemma").expect("gemma");
        let g = e
            .generate(&ask("Hi", 4), &CancelToken::new(), &mut |_| {})
            .expect("answers after the swap");
        assert!(g.generated_tokens > 0);
        let note = note.expect("the swap is reported");
        assert!(note.starts_with("unloaded small to load gemma ("), "{note}");
        assert_eq!(pool.loaded(), ["gemma"]);
        assert_eq!(pool.swaps.len(), 1);
        assert!(pool.swaps[0].load_s > 0.0);
    }
}

#[test]
fn a_prepared_copy_leaves_the_key_press_one_token_to_evaluate_and_the_same_rewrite() {
    use pith_core::tasks::rephrase::first_request;
    let mut e = engine();
    let text = "their going to anounce the new schedule tomorow morning, so please dont book the room yet.";
    for mode in [RephraseMode::Proofread, RephraseMode::Concise] {
        let (_, req) = first_request(&e, text, mode).expect("request");
        e.clear_cache();
        let plain = generate(&mut e, &req).expect("without preparation");
        e.clear_cache();
        let prepared_tokens = e.prepare(&req, &CancelToken::new()).expect("prepared");
        assert_eq!(prepared_tokens, plain.prompt_tokens - 1, "{mode}");
        let prepared = generate(&mut e, &req).expect("after preparation");
        assert_eq!(prepared.evaluated_prompt_tokens, 1, "{mode}");
        // The prompt was evaluated in another batch split (all but the
        // last token, then the last token alone), which can move the last
        // bits of a logit; on these rewrites the words are the same.
        assert_eq!(prepared.text, plain.text, "{mode}");
    }
    // A cancelled preparation stops and the engine goes on working.
    let (_, req) = first_request(&e, text, RephraseMode::Proofread).expect("request");
    e.clear_cache();
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = e.prepare(&req, &cancel).expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert!(!generate(&mut e, &req).expect("works").text.is_empty());
}

#[test]
fn parts_hold_their_limit_in_the_models_own_tokens_on_text_without_spaces() {
    use pith_core::tasks::chunk::chunk;
    let e = engine();
    let texts = [
        "今天我们讨论了新的项目计划，大家都同意下周开始工作。".repeat(60),
        format!(
            "The key is {} and nothing else.",
            "QUJDREVGR0hJSktMTU5PUA==".repeat(120)
        ),
        format!(
            "Open https://example.com/{}?q=1 now.",
            "path/segment-".repeat(150)
        ),
    ];
    for text in &texts {
        let chunks = chunk(text, 256, 32, &mut |s| e.count_tokens(s)).expect("chunks");
        assert!(chunks.len() > 1, "{} tokens in one part", chunks[0].tokens);
        assert_eq!(
            (chunks[0].start, chunks[chunks.len() - 1].end),
            (0, text.len())
        );
        for c in &chunks {
            assert!(c.tokens <= 256, "{c:?}");
            assert_eq!(
                e.count_tokens(&text[c.start..c.end]).expect("count"),
                c.tokens
            );
        }
    }
}
