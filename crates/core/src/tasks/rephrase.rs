//! Rephrase: six modes, prompts built for small models, checked results.
//!
//! Measured on SmolLM2-135M: with only a system instruction the model answers
//! most tone rewrites as if they were chat messages. Worked examples fix that,
//! and a completion-style few-shot prompt ("Text: ..." then the mode's label,
//! stopping at the blank line) does best, so it is tried first. The model's
//! chat template with the same examples as earlier turns is the second try,
//! and a sampled (not greedy) completion the third. Every result goes through
//! [`check_rephrase`]; if none passes, the caller gets
//! [`Error::ResultRejected`] with the reason, never a bad rewrite.

use super::check::{check_rephrase, Rejection};
use super::clean::clean_output;
use super::{budget_for, validate_text};
use crate::engine::{
    CancelToken, ChatMessage, Engine, GenerateRequest, Generation, Prompt, Sampling,
};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RephraseMode {
    Proofread,
    Rewrite,
    Friendly,
    Professional,
    Concise,
    Bullets,
}

impl RephraseMode {
    pub const ALL: [RephraseMode; 6] = [
        RephraseMode::Proofread,
        RephraseMode::Rewrite,
        RephraseMode::Friendly,
        RephraseMode::Professional,
        RephraseMode::Concise,
        RephraseMode::Bullets,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RephraseMode::Proofread => "proofread",
            RephraseMode::Rewrite => "rewrite",
            RephraseMode::Friendly => "friendly",
            RephraseMode::Professional => "professional",
            RephraseMode::Concise => "concise",
            RephraseMode::Bullets => "bullets",
        }
    }

    fn instruction(self) -> &'static str {
        match self {
            RephraseMode::Proofread => {
                "Fix the spelling and grammar mistakes in the text. Change nothing else. If there are no mistakes, copy the text unchanged."
            }
            RephraseMode::Rewrite => "Rewrite the text in different words. Keep the same meaning and facts.",
            RephraseMode::Friendly => "Rewrite the text in a warm, friendly tone. Keep the same meaning and facts.",
            RephraseMode::Professional => {
                "Rewrite the text in a polite, professional tone. Keep the same meaning and facts."
            }
            RephraseMode::Concise => "Rewrite the text shorter. Keep the key facts.",
            RephraseMode::Bullets => "List the points of the text as short bullet points.",
        }
    }

    /// The label that introduces the answer in the completion prompt.
    fn label(self) -> &'static str {
        match self {
            RephraseMode::Proofread => "Corrected",
            RephraseMode::Rewrite => "Rewritten",
            RephraseMode::Friendly => "Friendly",
            RephraseMode::Professional => "Professional",
            RephraseMode::Concise => "Concise",
            RephraseMode::Bullets => "Bullet points",
        }
    }

    fn examples(self) -> &'static [(&'static str, &'static str)] {
        match self {
            RephraseMode::Proofread => &[
                (
                    "i has went to the store yesterday and buyed some apple.",
                    "I went to the store yesterday and bought some apples.",
                ),
                ("The meeting is on Monday at 10 am.", "The meeting is on Monday at 10 am."),
                (
                    "Their going to anounce the results tomorow.",
                    "They're going to announce the results tomorrow.",
                ),
            ],
            RephraseMode::Rewrite => &[
                (
                    "The weather was bad so we stayed inside all day.",
                    "Because the weather was poor, we spent the whole day indoors.",
                ),
                (
                    "Please send me the report before Friday.",
                    "Kindly get the report to me ahead of Friday.",
                ),
                // As long as what people copy: every fact of a longer
                // message is kept, in other words.
                (
                    "hi all, quick reminder that the office will be closed on monday for the public holiday, so if you need anything from the printer room please grab it before friday evening, and the cleaners will come in on tuesday morning instead",
                    "Hello everyone, just a reminder that the office will be shut on Monday for the public holiday. Anything you need from the printer room should be picked up by Friday evening, and the cleaners will come on Tuesday morning instead.",
                ),
            ],
            RephraseMode::Friendly => &[
                (
                    "Send me the files today.",
                    "Hi! Could you send me the files today? Thanks a lot!",
                ),
                (
                    "Your order has shipped.",
                    "Great news: your order has shipped and is on its way!",
                ),
            ],
            RephraseMode::Professional => &[
                (
                    "hey, the numbers are wrong, fix them asap",
                    "Hello, the numbers appear to be wrong. Could you please fix them as soon as possible?",
                ),
                (
                    "can't make it to the call, sorry",
                    "Unfortunately, I cannot make it to the call. My apologies.",
                ),
            ],
            RephraseMode::Concise => &[
                (
                    "I wanted to let you know that I will not be able to attend the meeting tomorrow because I have a doctor's appointment.",
                    "I can't attend tomorrow's meeting due to a doctor's appointment.",
                ),
                (
                    "In my opinion, I think that we should probably consider moving the deadline to next week if that is at all possible.",
                    "We should move the deadline to next week if possible.",
                ),
            ],
            RephraseMode::Bullets => &[
                (
                    "We need milk, eggs and bread. Also call the plumber about the sink, and pay the electricity bill before Friday.",
                    "- Buy milk, eggs and bread\n- Call the plumber about the sink\n- Pay the electricity bill before Friday",
                ),
                (
                    "The new laptop is lighter, its battery lasts ten hours, and it costs less than the old model.",
                    "- Lighter than the old model\n- Battery lasts ten hours\n- Costs less than the old model",
                ),
            ],
        }
    }
}

impl FromStr for RephraseMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_lowercase();
        let alias = match s.as_str() {
            "bullet-points" | "bullet_points" | "bullet" | "list" => "bullets",
            "shorten" | "short" => "concise",
            "formal" => "professional",
            "casual" => "friendly",
            other => other,
        };
        RephraseMode::ALL
            .into_iter()
            .find(|m| m.name() == alias)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown rephrase mode '{s}'; choose one of: proofread, rewrite, friendly, professional, concise, bullets"
                ))
            })
    }
}

impl std::fmt::Display for RephraseMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How one attempt asks the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Few-shot completion prompt, greedy.
    Completion,
    /// The same examples as chat turns through the model's template, greedy.
    ChatFewShot,
    /// The completion prompt again, sampled.
    CompletionSampled,
    /// The mode's adapter (`pith tune`) with the instruction alone: it was
    /// trained on this prompt, so the examples the base model needs are in
    /// its weights. Greedy.
    Tuned,
}

/// The attempts when the mode has an adapter: the tuned model first, then
/// the base model's own prompts, so a tuned answer that fails the check
/// still gets the base model's tries.
pub const TUNED_STRATEGIES: [Strategy; 3] =
    [Strategy::Tuned, Strategy::Completion, Strategy::ChatFewShot];

pub const STRATEGIES: [Strategy; 3] = [
    Strategy::Completion,
    Strategy::ChatFewShot,
    Strategy::CompletionSampled,
];

/// The fixed part of a mode's completion prompt: everything before the
/// user's text. It is the same for every request, so an engine can keep it
/// evaluated in its cache.
pub fn completion_prefix(mode: RephraseMode) -> String {
    let mut p = format!("{}\n\n", mode.instruction());
    for (input, output) in mode.examples() {
        p.push_str(&format!(
            "Text: {input}\n{}:{}\n\n",
            mode.label(),
            answer_sep(mode, output)
        ));
    }
    p.push_str("Text: ");
    p
}

fn answer_sep(mode: RephraseMode, output: &str) -> String {
    if mode == RephraseMode::Bullets {
        format!("\n{output}")
    } else {
        format!(" {output}")
    }
}

/// The user's accepted rewrites as completion examples, each followed by
/// the start of the next ("Text: "). They come best first; the best is put
/// last, nearest the text (a small model follows the nearest example most).
fn push_examples(prompt: &mut String, mode: RephraseMode, examples: &[Example]) {
    for e in examples.iter().rev() {
        prompt.push_str(&format!(
            "{}\n{}:{}\n\nText: ",
            one_paragraph(&e.input),
            mode.label(),
            answer_sep(mode, &e.output)
        ));
    }
}

/// One line of input text as it goes into a prompt.
fn one_paragraph(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn build_request(
    text: &str,
    mode: RephraseMode,
    strategy: Strategy,
    max_tokens: usize,
) -> GenerateRequest {
    build_request_with(text, mode, strategy, max_tokens, &[])
}

/// A rewrite the user accepted (perhaps after editing it), shown to the
/// model as one more example of the mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Example {
    pub input: String,
    pub output: String,
}

/// [`build_request`] with the user's own accepted rewrites as further
/// examples. They follow the fixed instructions and examples, so the
/// cached evaluation of those still serves.
pub fn build_request_with(
    text: &str,
    mode: RephraseMode,
    strategy: Strategy,
    max_tokens: usize,
    examples: &[Example],
) -> GenerateRequest {
    let text = one_paragraph(text);
    let stops = ["\n\n", "\nText:", "Text:"];
    match strategy {
        Strategy::Tuned => {
            let mut prompt = format!("{}\n\nText: ", mode.instruction());
            push_examples(&mut prompt, mode, examples);
            prompt.push_str(&text);
            prompt.push_str(&format!("\n{}:", mode.label()));
            if mode == RephraseMode::Bullets {
                prompt.push('\n');
            }
            GenerateRequest::new(Prompt::Raw(prompt), max_tokens)
                .with_sampling(Sampling::greedy())
                .with_stop(stops)
                .with_lookup(true)
                .with_adapter(mode.name())
        }
        Strategy::Completion | Strategy::CompletionSampled => {
            let mut prompt = completion_prefix(mode);
            let fixed = prompt.len();
            push_examples(&mut prompt, mode, examples);
            prompt.push_str(&text);
            prompt.push_str(&format!("\n{}:", mode.label()));
            if mode == RephraseMode::Bullets {
                prompt.push('\n');
            }
            let sampling = if strategy == Strategy::CompletionSampled {
                Sampling {
                    temperature: 0.6,
                    ..Sampling::default()
                }
            } else {
                Sampling::greedy()
            };
            // The instructions and examples are the same for every text of a
            // mode: their evaluated state is kept on disk. Rewrites copy the
            // input's words, which prompt lookup drafts.
            GenerateRequest::new(Prompt::Raw(prompt), max_tokens)
                .with_sampling(sampling)
                .with_stop(stops)
                .with_lookup(true)
                .with_saved_state(format!("rephrase-{mode:?}").to_lowercase(), Some(fixed))
        }
        Strategy::ChatFewShot => {
            let mut messages = vec![ChatMessage::system(format!(
                "You rewrite text. You never answer or reply to it. {}",
                mode.instruction()
            ))];
            for (input, output) in mode.examples() {
                messages.push(ChatMessage::user(format!("Text: {input}")));
                messages.push(ChatMessage::assistant(*output));
            }
            for e in examples.iter().rev() {
                messages.push(ChatMessage::user(format!(
                    "Text: {}",
                    one_paragraph(&e.input)
                )));
                messages.push(ChatMessage::assistant(e.output.clone()));
            }
            messages.push(ChatMessage::user(format!("Text: {text}")));
            // Bullet lists contain single newlines, never blank lines.
            GenerateRequest::new(Prompt::Chat(messages), max_tokens)
                .with_stop(["\n\n", "Text:"])
                .with_lookup(true)
        }
    }
}

/// A training example for `mode`: the tuned first try's request for
/// `input`, what the model should continue it with (through the stop that
/// ends the answer), and the byte ranges of the prompt holding the input's
/// words that the target does not have (a proofread input's mistakes),
/// which the model reads but is not taught to write.
pub fn training_example(
    input: &str,
    target: &str,
    mode: RephraseMode,
) -> (GenerateRequest, String, Vec<std::ops::Range<usize>>) {
    let request = build_request(input, mode, Strategy::Tuned, 0);
    let text = one_paragraph(input);
    let hidden = match &request.prompt {
        Prompt::Raw(p) => {
            let at = p
                .rfind(&format!("Text: {text}\n"))
                .map_or(0, |i| i + "Text: ".len());
            crate::tune::differing_words(&text, &one_paragraph(target))
                .into_iter()
                .map(|r| r.start + at..r.end + at)
                .collect()
        }
        Prompt::Chat(_) => Vec::new(),
    };
    (
        request,
        format!("{}\n\n", answer_sep(mode, &one_paragraph(target))),
        hidden,
    )
}

/// A rewrite that passed the check.
#[derive(Debug, Clone, Serialize)]
pub struct Rephrased {
    pub text: String,
    pub mode: RephraseMode,
    /// True when proofreading found nothing to fix.
    pub unchanged: bool,
    /// 1 when the first attempt passed.
    pub attempts: usize,
    #[serde(skip)]
    pub generation: Generation,
}

/// The request a rewrite of `text` in `mode` starts with, and the text as
/// it is rewritten (trimmed); refused when the text cannot be rewritten
/// (empty, binary, too long for the window). The hotkey prepares this
/// request when text is copied, so the key press finds it evaluated.
pub fn first_request(
    engine: &dyn Engine,
    text: &str,
    mode: RephraseMode,
) -> Result<(String, GenerateRequest)> {
    first_request_with(engine, text, mode, &[])
}

/// [`first_request`] with the user's accepted rewrites as examples.
pub fn first_request_with(
    engine: &dyn Engine,
    text: &str,
    mode: RephraseMode,
    examples: &[Example],
) -> Result<(String, GenerateRequest)> {
    let text = validate_text(text)?;
    let input_tokens = engine.count_tokens(&text)?;
    // Room for a rewrite somewhat longer than the input (friendly tone adds words).
    let max_tokens = input_tokens * 2 + 48;
    let strategy = if engine.has_adapter(mode.name()) {
        Strategy::Tuned
    } else {
        Strategy::Completion
    };
    let request = build_request_with(&text, mode, strategy, max_tokens, examples);
    budget_for(engine, &request)?;
    Ok((text, request))
}

/// Rewrites `text` in `mode`. `on_piece` receives each attempt's raw
/// stream with the attempt's number (1-based; a new number starts over).
pub fn rephrase(
    engine: &mut dyn Engine,
    text: &str,
    mode: RephraseMode,
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<Rephrased> {
    rephrase_with(engine, text, mode, false, &[], cancel, on_piece)
}

/// The same; `again` asks for another version than last time (the user
/// pressed Retry): the sampled prompt first, with a fresh seed.
pub fn rephrase_with(
    engine: &mut dyn Engine,
    text: &str,
    mode: RephraseMode,
    again: bool,
    examples: &[Example],
    cancel: &CancelToken,
    on_piece: &mut dyn FnMut(usize, &str),
) -> Result<Rephrased> {
    let (text, first) = first_request_with(engine, text, mode, examples)?;
    let max_tokens = first.max_tokens;

    let mut reasons: Vec<Rejection> = Vec::new();
    let order = if again {
        [
            Strategy::CompletionSampled,
            Strategy::ChatFewShot,
            Strategy::Completion,
        ]
    } else if first.adapter.is_some() {
        TUNED_STRATEGIES
    } else {
        STRATEGIES
    };
    for (i, strategy) in order.into_iter().enumerate() {
        let attempt = i + 1;
        let mut request = build_request_with(&text, mode, strategy, max_tokens, examples);
        if again && strategy == Strategy::CompletionSampled {
            request.sampling.seed = Sampling::varied().seed;
        }
        let generation =
            engine.generate(&request, cancel, &mut |piece| on_piece(attempt, piece))?;
        let cleaned = clean_output(&generation.text);
        match check_rephrase(&text, &cleaned, mode) {
            Ok(()) => {
                let unchanged = super::check::words(&cleaned) == super::check::words(&text);
                return Ok(Rephrased {
                    text: cleaned,
                    mode,
                    unchanged,
                    attempts: attempt,
                    generation,
                });
            }
            Err(why) if !reasons.contains(&why) => reasons.push(why),
            Err(_) => {}
        }
    }
    let reason = reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    Err(Error::ResultRejected {
        reason: format!("{} attempts failed: {reason}", STRATEGIES.len()),
        suggestion: format!(
            "The {mode} mode may be beyond {}; try another mode or a larger model (for example Qwen2.5 1.5B Instruct).",
            engine.info().name
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ScriptedEngine;

    fn run(engine: &mut ScriptedEngine, text: &str, mode: RephraseMode) -> Result<Rephrased> {
        rephrase(engine, text, mode, &CancelToken::new(), &mut |_, _| {})
    }

    #[test]
    fn every_mode_builds_a_completion_prompt_with_examples_and_the_text_last() {
        for mode in RephraseMode::ALL {
            let req = build_request("teh cat sat", mode, Strategy::Completion, 64);
            let Prompt::Raw(p) = &req.prompt else {
                panic!("completion prompt expected");
            };
            assert!(p.starts_with(mode.instruction()), "{mode}");
            assert_eq!(
                p.matches("Text: ").count(),
                mode.examples().len() + 1,
                "{mode}"
            );
            assert!(p.contains("Text: teh cat sat\n"), "{mode}");
            assert!(
                p.trim_end().ends_with(&format!("{}:", mode.label())),
                "{mode}"
            );
            assert!(req.stop.contains(&"\n\n".to_string()));
            assert_eq!(req.sampling.temperature, 0.0);
        }
    }

    #[test]
    fn the_completion_prompt_starts_with_the_fixed_prefix() {
        for mode in RephraseMode::ALL {
            let Prompt::Raw(p) = build_request("hello there", mode, Strategy::Completion, 8).prompt
            else {
                panic!("completion prompt expected");
            };
            assert!(p.starts_with(&completion_prefix(mode)));
        }
    }

    #[test]
    fn accepted_rewrites_follow_the_fixed_prefix_so_its_saved_state_still_serves() {
        let examples = [Example {
            input: "teh cat  sat".into(),
            output: "The cat sat.".into(),
        }];
        let plain = build_request(
            "a dog ran",
            RephraseMode::Proofread,
            Strategy::Completion,
            8,
        );
        let with = build_request_with(
            "a dog ran",
            RephraseMode::Proofread,
            Strategy::Completion,
            8,
            &examples,
        );
        let (Prompt::Raw(p), Some(saved)) = (&with.prompt, &with.saved_state) else {
            panic!("completion prompt with a saved state expected");
        };
        let prefix = completion_prefix(RephraseMode::Proofread);
        assert_eq!(saved.prefix_bytes, Some(prefix.len()));
        assert_eq!(plain.saved_state, with.saved_state);
        assert!(
            p.starts_with(&format!(
                "{prefix}teh cat sat\nCorrected: The cat sat.\n\nText: a dog ran\nCorrected:"
            )),
            "{p}"
        );
        let Prompt::Chat(m) = build_request_with(
            "a dog ran",
            RephraseMode::Proofread,
            Strategy::ChatFewShot,
            8,
            &examples,
        )
        .prompt
        else {
            panic!("chat prompt expected");
        };
        let n = m.len();
        assert_eq!(m[n - 3].content, "Text: teh cat sat");
        assert_eq!(m[n - 2].content, "The cat sat.");
        // The best example (first) is put nearest the text.
        let two = [
            examples[0].clone(),
            Example {
                input: "other".into(),
                output: "Other.".into(),
            },
        ];
        let Prompt::Raw(p) = build_request_with(
            "a dog ran",
            RephraseMode::Proofread,
            Strategy::Completion,
            8,
            &two,
        )
        .prompt
        else {
            panic!("completion prompt expected");
        };
        assert!(p.find("Text: other").expect("other") < p.find("Text: teh cat sat").expect("best"));
    }

    #[test]
    fn a_mode_with_an_adapter_tries_it_first_with_its_short_prompt_then_the_base_model() {
        let req = build_request("a dog ran", RephraseMode::Proofread, Strategy::Tuned, 8);
        let Prompt::Raw(p) = &req.prompt else {
            panic!("completion prompt expected");
        };
        assert_eq!(
            p,
            &format!(
                "{}\n\nText: a dog ran\nCorrected:",
                RephraseMode::Proofread.instruction()
            )
        );
        assert_eq!(req.adapter.as_deref(), Some("proofread"));
        for strategy in STRATEGIES {
            assert_eq!(
                build_request("x", RephraseMode::Proofread, strategy, 8).adapter,
                None
            );
        }
        // The training example is that prompt and the answer to its stop.
        let (train, answer, hidden) =
            training_example("a dog runned", "A dog ran.", RephraseMode::Proofread);
        assert_eq!(
            train.prompt,
            build_request("a dog runned", RephraseMode::Proofread, Strategy::Tuned, 8).prompt
        );
        assert_eq!(answer, " A dog ran.\n\n");
        let Prompt::Raw(p) = &train.prompt else {
            panic!("completion prompt expected");
        };
        let words: Vec<&str> = hidden.iter().map(|r| &p[r.clone()]).collect();
        assert_eq!(words, ["a", "runned"]);
    }

    #[test]
    fn chat_strategy_puts_examples_in_earlier_turns() {
        let req = build_request(
            "the text",
            RephraseMode::Friendly,
            Strategy::ChatFewShot,
            64,
        );
        let Prompt::Chat(m) = &req.prompt else {
            panic!("chat prompt expected");
        };
        assert_eq!(m.len(), 1 + 2 * RephraseMode::Friendly.examples().len() + 1);
        assert_eq!(m.last().map(|x| x.content.as_str()), Some("Text: the text"));
    }

    #[test]
    fn multi_line_input_goes_in_as_one_paragraph() {
        let Prompt::Raw(p) =
            build_request("one\n\ntwo", RephraseMode::Rewrite, Strategy::Completion, 8).prompt
        else {
            panic!("completion prompt expected");
        };
        assert!(p.contains("Text: one two\n"));
    }

    #[test]
    fn first_passing_attempt_is_returned_clean() {
        let mut e =
            ScriptedEngine::new(4096).reply(" Sure! Here is the text:\nI went to the store.");
        let r = run(&mut e, "i goed to the store.", RephraseMode::Proofread).expect("passes");
        assert_eq!(r.text, "I went to the store.");
        assert_eq!(r.attempts, 1);
        assert!(!r.unchanged);
    }

    #[test]
    fn an_answer_instead_of_a_rewrite_is_retried_with_another_prompt() {
        let mut e = ScriptedEngine::new(4096)
            .reply("I'm sorry, I will send the invoice!")
            .reply("Hi! Could you send the invoice by Friday? Thanks!");
        let r = run(
            &mut e,
            "Send the invoice by Friday.",
            RephraseMode::Friendly,
        )
        .expect("second passes");
        assert_eq!(r.attempts, 2);
        assert!(matches!(e.requests[1].prompt, Prompt::Chat(_)));
    }

    #[test]
    fn when_every_attempt_fails_the_error_says_why_and_suggests_a_larger_model() {
        let mut e = ScriptedEngine::new(4096)
            .reply("I'm sorry about that.")
            .reply("I'm sorry about that.")
            .reply("I'm sorry about that.");
        let err = run(
            &mut e,
            "Send the invoice by Friday.",
            RephraseMode::Friendly,
        )
        .expect_err("rejected");
        assert_eq!(err.code(), crate::error::ErrorCode::ResultRejected);
        let msg = err.to_string();
        assert!(
            msg.contains("answered the text instead of rewriting it"),
            "{msg}"
        );
        assert!(msg.contains("larger model"), "{msg}");
        assert_eq!(e.requests.len(), 3);
    }

    #[test]
    fn unchanged_proofread_is_reported() {
        let mut e = ScriptedEngine::new(4096).reply(" The report is ready.");
        let r = run(&mut e, "The report is ready.", RephraseMode::Proofread).expect("passes");
        assert!(r.unchanged);
    }

    #[test]
    fn empty_input_is_refused_before_the_model_runs() {
        let mut e = ScriptedEngine::new(4096);
        let err = run(&mut e, "  \n ", RephraseMode::Rewrite).expect_err("empty");
        assert_eq!(err.code(), crate::error::ErrorCode::EmptyInput);
        assert!(e.requests.is_empty());
    }

    #[test]
    fn input_longer_than_the_window_is_refused_with_the_numbers() {
        let mut e = ScriptedEngine::new(64);
        let long = "word ".repeat(100);
        let err = run(&mut e, &long, RephraseMode::Rewrite).expect_err("too long");
        assert!(
            matches!(
                err,
                Error::ContextTooLong {
                    context_tokens: 64,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(e.requests.is_empty());
    }

    #[test]
    fn modes_parse_from_names_and_aliases() {
        assert_eq!(
            "bullet-points".parse::<RephraseMode>().ok(),
            Some(RephraseMode::Bullets)
        );
        assert_eq!(
            "Formal".parse::<RephraseMode>().ok(),
            Some(RephraseMode::Professional)
        );
        let err = "poetic".parse::<RephraseMode>().expect_err("unknown");
        assert!(err.to_string().contains("choose one of"));
    }
}
