//! The held-out evaluation: the base model and a candidate adapter answer
//! the same held-out pairs, first try and greedy, as a rewrite's first
//! attempt is made; the adapter is installed only when it does better.

use super::pairs::Pair;
use crate::engine::{CancelToken, Engine};
use crate::error::{Error, Result};
use crate::tasks::check::{check_rephrase, words};
use crate::tasks::clean::clean_output;
use crate::tasks::rephrase::{build_request, first_request, RephraseMode, Strategy};
use serde::Serialize;

/// How one model (with or without an adapter) did on held-out pairs.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Score {
    pub pairs: usize,
    /// Share of first tries that Pith's check accepts.
    pub check_pass_rate: f64,
    /// Share of first tries that the check accepts and that are the target
    /// (word for word): for proofread, the mistakes fixed and nothing else.
    pub pass_rate: f64,
    /// Mean character similarity of the first try to the target (0..1).
    pub similarity: f64,
}

/// Answers every pair's input with `adapter` (None: the base model).
/// `on_pair` hears of each pair done.
pub fn evaluate(
    engine: &mut dyn Engine,
    mode: RephraseMode,
    pairs: &[Pair],
    adapter: Option<&str>,
    cancel: &CancelToken,
    on_pair: &mut dyn FnMut(usize),
) -> Result<Score> {
    if pairs.is_empty() {
        return Err(Error::InvalidInput(
            "there are no held-out pairs to evaluate on".into(),
        ));
    }
    let (mut checked, mut passed, mut similar) = (0usize, 0usize, 0.0f64);
    for (i, pair) in pairs.iter().enumerate() {
        let (text, base) = first_request(engine, &pair.input, mode)?;
        // The adapter's own prompt with it, the base model's without.
        let strategy = if adapter.is_some() {
            Strategy::Tuned
        } else {
            Strategy::Completion
        };
        let mut request = build_request(&text, mode, strategy, base.max_tokens);
        request.adapter = adapter.map(str::to_string);
        let generation = engine.generate(&request, cancel, &mut |_| {})?;
        let answer = clean_output(&generation.text);
        let ok = check_rephrase(&text, &answer, mode).is_ok();
        checked += usize::from(ok);
        passed += usize::from(ok && words(&answer) == words(&pair.target));
        similar += similarity(&answer, &pair.target);
        on_pair(i + 1);
    }
    let n = pairs.len() as f64;
    Ok(Score {
        pairs: pairs.len(),
        check_pass_rate: checked as f64 / n,
        pass_rate: passed as f64 / n,
        similarity: similar / n,
    })
}

/// 1 − (character edit distance / length of the longer text).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (a.trim().chars().collect(), b.trim().chars().collect());
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    1.0 - row[b.len()] as f64 / longest as f64
}

/// How much better an adapter did, in points (percentage points for the
/// rates, hundredths for similarity).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Gain {
    pub pass_rate_points: f64,
    pub check_pass_rate_points: f64,
    pub similarity_points: f64,
}

/// The adapter is better when more of its first tries pass and are the
/// target, with no fewer passing Pith's check and its answers at most two
/// points less similar to the targets (answers it still gets wrong may be
/// further off); or as many pass and it gets at least a point closer.
/// Anything else is refused with the figures.
pub fn verdict(base: &Score, tuned: &Score) -> Result<Gain> {
    let gain = Gain {
        pass_rate_points: (tuned.pass_rate - base.pass_rate) * 100.0,
        check_pass_rate_points: (tuned.check_pass_rate - base.check_pass_rate) * 100.0,
        similarity_points: (tuned.similarity - base.similarity) * 100.0,
    };
    let better = (gain.pass_rate_points > 0.0
        && gain.check_pass_rate_points >= 0.0
        && gain.similarity_points >= -2.0)
        || (gain.pass_rate_points == 0.0
            && gain.check_pass_rate_points >= 0.0
            && gain.similarity_points >= 1.0);
    if better {
        Ok(gain)
    } else {
        Err(Error::ResultRejected {
            reason: format!(
                "the tuned adapter is not better than the base model on {} held-out pairs: \
                 pass rate {:.0}% against {:.0}%, similarity {:.2} against {:.2}",
                tuned.pairs,
                tuned.pass_rate * 100.0,
                base.pass_rate * 100.0,
                tuned.similarity,
                base.similarity
            ),
            suggestion: "It was not installed; the model answers as before. More pairs or \
                         another run (pith tune MODE --epochs N) may do better."
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ScriptedEngine;

    fn score(pass: f64, sim: f64) -> Score {
        Score {
            pairs: 20,
            check_pass_rate: 1.0,
            pass_rate: pass,
            similarity: sim,
        }
    }

    #[test]
    fn similarity_is_one_for_equal_texts_and_falls_with_edits() {
        assert_eq!(similarity("abc", "abc"), 1.0);
        assert_eq!(similarity("", ""), 1.0);
        assert!((similarity("kitten", "sitting") - (1.0 - 3.0 / 7.0)).abs() < 1e-9);
        assert_eq!(similarity("abc", ""), 0.0);
    }

    #[test]
    fn an_adapter_that_is_not_better_is_refused_with_the_figures() {
        // Worse, equal, or more passes bought with answers much further
        // off or fewer passing the check.
        let fewer_checked = Score {
            check_pass_rate: 0.9,
            ..score(0.6, 0.9)
        };
        for (base, tuned) in [
            (score(0.5, 0.9), score(0.4, 0.95)),
            (score(0.5, 0.9), score(0.5, 0.905)),
            (score(0.5, 0.9), score(0.6, 0.85)),
            (score(0.5, 0.9), fewer_checked),
        ] {
            let err = verdict(&base, &tuned).expect_err("not better");
            let text = err.to_string();
            assert!(
                text.contains("not better") && text.contains("held-out"),
                "{text}"
            );
        }
        let gain = verdict(&score(0.3, 0.8), &score(0.55, 0.9)).expect("better");
        assert!((gain.pass_rate_points - 25.0).abs() < 1e-9);
        assert!((gain.similarity_points - 10.0).abs() < 1e-9);
        assert!(verdict(&score(0.5, 0.8), &score(0.5, 0.82)).is_ok());
        // More right answers; the wrong ones a little further off.
        assert!(verdict(&score(0.55, 0.933), &score(0.67, 0.922)).is_ok());
    }

    #[test]
    fn the_evaluation_scores_first_tries_with_the_adapter_asked_for() {
        let pairs = vec![
            Pair {
                input: "i goed home.".into(),
                target: "I went home.".into(),
                sentence: 0,
            },
            Pair {
                input: "She are here.".into(),
                target: "She is here.".into(),
                sentence: 1,
            },
        ];
        let mut engine = ScriptedEngine::new(4096)
            .reply(" I went home.")
            .reply(" She are here.");
        let s = evaluate(
            &mut engine,
            RephraseMode::Proofread,
            &pairs,
            Some("proofread"),
            &CancelToken::new(),
            &mut |_| {},
        )
        .expect("scored");
        assert_eq!(s.pass_rate, 0.5);
        assert_eq!(s.check_pass_rate, 1.0);
        assert!(s.similarity > 0.5 && s.similarity < 1.0);
        assert!(engine
            .requests
            .iter()
            .all(|r| r.adapter.as_deref() == Some("proofread")));
        let none: &[Pair] = &[];
        assert!(evaluate(
            &mut engine,
            RephraseMode::Proofread,
            none,
            None,
            &CancelToken::new(),
            &mut |_| {}
        )
        .is_err());
    }
}
