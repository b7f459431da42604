//! Specializing the small model: training pairs, LoRA training plans,
//! low-rank adapters and the held-out evaluation that decides whether an
//! adapter is installed.
//!
//! The training itself runs in `pith-llama` (llama.cpp's optimizer on an
//! F32 copy of the model); everything it needs to know and everything it
//! hands back is plain data defined here.

pub mod eval;
pub mod lowrank;
pub mod pairs;

use serde::Serialize;

/// One training example in a model's tokens: the prompt, then the answer
/// the model should write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub tokens: Vec<i32>,
    /// Whether predicting each token is taught (the first token's entry
    /// is never used). False for the tokens of a prompt's injected
    /// mistakes: the model reads them but must not learn to write them.
    pub taught: Vec<bool>,
}

/// How a training run goes.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSettings {
    /// Tokens per training window (and per optimizer step); llama.cpp
    /// rounds it up to a multiple of 256.
    pub n_ctx: u32,
    pub learning_rate: f32,
    pub epochs: u32,
    pub threads: usize,
    /// Trainable tensors, by the end of their name (`attn_q.weight`).
    pub targets: Vec<String>,
    /// Windows already trained by the run being resumed.
    pub skip_steps: usize,
}

/// How far one trained tensor moved from the base weights: `rows` × `cols`
/// (out × in), row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedTensor {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub delta: Vec<f32>,
}

/// One optimizer step, as the trainer reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingStep {
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
    pub tokens_per_s: f64,
}

/// What a progress callback tells the trainer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// One training window: `n_ctx` tokens, the next token of each as its
/// label, and whether that label is taught or only read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub tokens: Vec<i32>,
    pub labels: Vec<i32>,
    pub taught: Vec<bool>,
}

/// Packs whole examples into one stream and cuts it into windows of
/// `n_ctx` tokens with their next-token labels. The stream is cycled so the
/// last window is full rather than padded; no window is made from fewer
/// tokens than one window holds.
///
/// llama.cpp's trainer takes a label for every position and has no mask,
/// so the trainer gives a position whose label is not taught the base
/// model's own prediction there instead: its gradient is then about nil
/// where the model is sure, and the model never learns to write the
/// mistakes it reads.
pub fn pack(examples: &[Example], n_ctx: usize) -> Vec<Window> {
    let stream: Vec<(i32, bool)> = examples
        .iter()
        .flat_map(|e| {
            e.tokens
                .iter()
                .enumerate()
                .map(move |(i, &t)| (t, e.taught.get(i).copied().unwrap_or(true)))
        })
        .collect();
    if n_ctx == 0 || stream.len() <= n_ctx {
        return Vec::new();
    }
    let windows = stream.len().div_ceil(n_ctx);
    (0..windows)
        .map(|w| {
            let at = |i: usize| stream[(w * n_ctx + i) % stream.len()];
            Window {
                tokens: (0..n_ctx).map(|i| at(i).0).collect(),
                labels: (1..=n_ctx).map(|i| at(i).0).collect(),
                taught: (1..=n_ctx).map(|i| at(i).1).collect(),
            }
        })
        .collect()
}

/// Byte ranges of `input`'s words that are not in `target` (longest common
/// subsequence of words): the mistakes a proofread pair's input carries.
pub fn differing_words(input: &str, target: &str) -> Vec<std::ops::Range<usize>> {
    use crate::tasks::chunk::words;
    let (a, b) = (words(input), words(target));
    let (n, m) = (a.len(), b.len());
    let same = |i: usize, j: usize| input[a[i].0..a[i].1] == target[b[j].0..b[j].1];
    let mut table = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if same(i, j) {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n {
        if j < m && same(i, j) {
            i += 1;
            j += 1;
        } else if j < m && table[i][j + 1] >= table[i + 1][j] {
            j += 1;
        } else {
            out.push(a[i].0..a[i].1);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_cuts_the_stream_into_full_windows_and_keeps_what_is_taught() {
        let ex = |tokens: Vec<i32>, taught: Vec<bool>| Example { tokens, taught };
        let examples = vec![
            ex(vec![1, 2, 3], vec![true, false, true]),
            ex(vec![4, 5], vec![true, true]),
            ex(vec![6, 7, 8], vec![true, true, false]),
        ];
        let w = pack(&examples, 3);
        assert_eq!(w.len(), 3);
        assert_eq!(
            (w[0].tokens.clone(), w[0].labels.clone()),
            (vec![1, 2, 3], vec![2, 3, 4])
        );
        assert_eq!(w[0].taught, vec![false, true, true]);
        assert_eq!(
            (w[1].tokens.clone(), w[1].labels.clone()),
            (vec![4, 5, 6], vec![5, 6, 7])
        );
        // The last window wraps to the start instead of padding.
        assert_eq!(
            (w[2].tokens.clone(), w[2].labels.clone()),
            (vec![7, 8, 1], vec![8, 1, 2])
        );
        assert_eq!(w[2].taught, vec![false, true, false]);
        assert!(pack(&[ex(vec![1, 2], vec![true; 2])], 2).is_empty());
        assert!(pack(&[ex(vec![1, 2, 3], vec![true; 3])], 0).is_empty());
    }

    #[test]
    fn the_words_a_mistake_changed_are_found_by_their_bytes() {
        let input = "She goed to the bank  becuase it is late";
        let target = "She went to the bank because it is late.";
        let ranges = differing_words(input, target);
        let words: Vec<&str> = ranges.iter().map(|r| &input[r.clone()]).collect();
        assert_eq!(words, ["goed", "becuase", "late"]);
        assert!(differing_words("same words", "same words").is_empty());
        assert_eq!(differing_words("a b", "").len(), 2);
    }
}
