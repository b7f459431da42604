//! Training pairs: made by rule (proofread) or by a teacher model, and
//! split into training and held-out pairs by sentence, so no held-out
//! sentence is ever trained on in another form.

use crate::tasks::check::check_rephrase;
use crate::tasks::rephrase::RephraseMode;
use serde::Serialize;

/// One example of a mode's job: the text given and the answer wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub input: String,
    pub target: String,
    /// Which clean sentence it came from (its index in the source list):
    /// held-out pairs share none with training pairs.
    pub sentence: usize,
}

/// The kinds of mistakes the rule-made proofread pairs carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mistake {
    Spelling,
    Agreement,
    Tense,
    Punctuation,
}

/// Clean, everyday sentences shipped with Pith: the targets of rule-made
/// proofread pairs and the inputs a teacher rewrites.
pub fn sentences() -> Vec<&'static str> {
    include_str!("sentences.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

const MISSPELT: &[(&str, &str)] = &[
    ("received", "recieved"),
    ("receive", "recieve"),
    ("definitely", "definately"),
    ("separate", "seperate"),
    ("tomorrow", "tomorow"),
    ("begins", "beggins"),
    ("until", "untill"),
    ("which", "wich"),
    ("because", "becuase"),
    ("believe", "beleive"),
    ("friend", "freind"),
    ("friendly", "freindly"),
    ("whether", "wether"),
    ("surprised", "suprised"),
    ("surprising", "suprising"),
    ("restaurant", "restaraunt"),
    ("library", "libary"),
    ("already", "allready"),
    ("address", "adress"),
    ("beautiful", "beatiful"),
    ("usually", "usualy"),
    ("quietly", "quitely"),
    ("different", "diferent"),
    ("necessary", "neccessary"),
    ("weekend", "weekand"),
    ("there", "their"),
    ("their", "there"),
    ("they're", "their"),
    ("you're", "your"),
    ("it's", "its"),
    ("too", "to"),
];

const AGREEMENT: &[(&str, &str)] = &[
    ("is", "are"),
    ("are", "is"),
    ("was", "were"),
    ("were", "was"),
    ("has", "have"),
    ("have", "has"),
    ("doesn't", "don't"),
    ("don't", "doesn't"),
    ("wasn't", "weren't"),
    ("weren't", "wasn't"),
];

const TENSE: &[(&str, &str)] = &[
    ("went", "goed"),
    ("bought", "buyed"),
    ("wrote", "writed"),
    ("took", "taked"),
    ("made", "maked"),
    ("sent", "sended"),
    ("came", "comed"),
    ("told", "telled"),
    ("brought", "bringed"),
    ("ran", "runned"),
    ("began", "beginned"),
    ("chose", "choosed"),
    ("found", "finded"),
    ("built", "builded"),
    ("drove", "drived"),
    ("forgot", "forgetted"),
    ("sold", "selled"),
    ("met", "meeted"),
    ("spent", "spended"),
    ("lost", "losed"),
    ("gave", "gived"),
    ("slept", "sleeped"),
    ("arrived", "arrive"),
    ("finished", "finish"),
    ("explained", "explain"),
    ("fixed", "fix"),
    ("thanked", "thank"),
    ("checked", "check"),
];

const CONTRACTIONS: &[(&str, &str)] = &[
    ("don't", "dont"),
    ("doesn't", "doesnt"),
    ("can't", "cant"),
    ("didn't", "didnt"),
    ("couldn't", "couldnt"),
    ("I'm", "Im"),
    ("I'll", "Ill"),
    ("haven't", "havent"),
    ("wasn't", "wasnt"),
];

/// One word of a sentence: its letters and what follows them.
fn split_word(token: &str) -> (&str, &str) {
    let end = token
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '\''))
        .map_or(token.len(), |(i, _)| i);
    token.split_at(end)
}

/// Replaces one word (whole-word, same case at the start) found in
/// `table`, picked with `pick`; None when no word of the table is there.
fn swap_word(words: &mut [String], table: &[(&str, &str)], pick: &mut Rng) -> bool {
    let found: Vec<(usize, &str)> = words
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let (core, _) = split_word(w);
            table
                .iter()
                .find(|(from, _)| *from == core)
                .map(|(_, to)| (i, *to))
        })
        .collect();
    if found.is_empty() {
        return false;
    }
    let (i, to) = found[pick.below(found.len())];
    let (_, rest) = split_word(&words[i]);
    words[i] = format!("{to}{rest}");
    true
}

/// A typo: two inner letters of a long word swapped.
fn typo(words: &mut [String], pick: &mut Rng) -> bool {
    let long: Vec<usize> = (0..words.len())
        .filter(|&i| {
            let (core, _) = split_word(&words[i]);
            core.len() >= 6 && core.chars().all(|c| c.is_ascii_lowercase())
        })
        .collect();
    if long.is_empty() {
        return false;
    }
    let i = long[pick.below(long.len())];
    let (core, rest) = split_word(&words[i]);
    let mut letters: Vec<char> = core.chars().collect();
    let at = 1 + pick.below(letters.len() - 3);
    if letters[at] == letters[at + 1] {
        return false;
    }
    letters.swap(at, at + 1);
    words[i] = format!("{}{rest}", letters.into_iter().collect::<String>());
    true
}

fn punctuation(words: &mut [String], pick: &mut Rng) -> bool {
    match pick.below(4) {
        0 => swap_word(words, CONTRACTIONS, pick),
        1 => {
            // The sentence's final full stop left out.
            let last = words.last_mut().expect("a sentence has words");
            if last.ends_with('.') {
                last.pop();
                true
            } else {
                false
            }
        }
        2 => {
            // A comma left out.
            let commas: Vec<usize> = (0..words.len())
                .filter(|&i| words[i].ends_with(','))
                .collect();
            if commas.is_empty() {
                return false;
            }
            let i = commas[pick.below(commas.len())];
            words[i].pop();
            true
        }
        _ => {
            // The first letter in lower case.
            let first = &mut words[0];
            let lower = first.to_lowercase();
            if *first == lower || first == "I" || first.starts_with("I'") {
                return false;
            }
            *first = lower;
            true
        }
    }
}

/// The sentence with one mistake of `kind`, or None when it has nothing
/// that mistake could change.
pub fn inject(sentence: &str, kind: Mistake, pick: &mut Rng) -> Option<String> {
    let mut words: Vec<String> = sentence.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return None;
    }
    let changed = match kind {
        Mistake::Spelling => swap_word(&mut words, MISSPELT, pick) || typo(&mut words, pick),
        Mistake::Agreement => swap_word(&mut words, AGREEMENT, pick),
        Mistake::Tense => swap_word(&mut words, TENSE, pick),
        Mistake::Punctuation => punctuation(&mut words, pick),
    };
    let out = words.join(" ");
    (changed && out != sentence).then_some(out)
}

/// Proofread pairs made by rule: for every clean sentence, `per_sentence`
/// versions with one or two mistakes of different kinds (the clean sentence
/// is the target), plus one in five left clean (copying is part of the
/// job). Pairs whose target Pith's check would refuse are left out.
pub fn proofread_pairs(sentences: &[&str], per_sentence: usize, seed: u64) -> Vec<Pair> {
    let kinds = [
        Mistake::Spelling,
        Mistake::Agreement,
        Mistake::Tense,
        Mistake::Punctuation,
    ];
    let mut pick = Rng::new(seed);
    let mut pairs = Vec::new();
    for (n, sentence) in sentences.iter().enumerate() {
        let mut seen = std::collections::HashSet::new();
        for attempt in 0..per_sentence * 4 {
            if seen.len() == per_sentence {
                break;
            }
            let first = kinds[(n + attempt) % kinds.len()];
            let Some(mut noisy) = inject(sentence, first, &mut pick) else {
                continue;
            };
            if pick.below(3) == 0 {
                let second = kinds[pick.below(kinds.len())];
                if second != first {
                    if let Some(more) = inject(&noisy, second, &mut pick) {
                        noisy = more;
                    }
                }
            }
            // A pair whose answer Pith's own check would refuse (two fixes
            // in a short sentence can be) would teach a refused answer.
            let acceptable = check_rephrase(&noisy, sentence, RephraseMode::Proofread).is_ok();
            if acceptable && seen.insert(noisy.clone()) {
                pairs.push(Pair {
                    input: noisy,
                    target: (*sentence).to_string(),
                    sentence: n,
                });
            }
        }
        if n % 5 == 0 {
            pairs.push(Pair {
                input: (*sentence).to_string(),
                target: (*sentence).to_string(),
                sentence: n,
            });
        }
    }
    pairs
}

/// Training and held-out pairs: every `every`-th sentence's pairs are held
/// out.
pub fn split(pairs: Vec<Pair>, every: usize) -> (Vec<Pair>, Vec<Pair>) {
    pairs
        .into_iter()
        .partition(|p| every == 0 || p.sentence % every != every - 1)
}

/// xorshift64: reproducible pairs without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_mistake_changes_what_it_should() {
        let mut r = Rng::new(1);
        let s = "She went to the bank because she has a meeting, and it's late.";
        let spelt = inject(s, Mistake::Spelling, &mut r).expect("spelling");
        // One word misspelt (from the list, or two letters swapped).
        let changed = s
            .split(' ')
            .zip(spelt.split(' '))
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(changed, 1, "{spelt}");
        let agreed = inject(s, Mistake::Agreement, &mut r).expect("agreement");
        assert!(agreed.contains("she have"), "{agreed}");
        let tensed = inject(s, Mistake::Tense, &mut r).expect("tense");
        assert!(tensed.contains("She goed"), "{tensed}");
        // Nothing to change: no mistake made.
        assert_eq!(inject("Hello", Mistake::Tense, &mut r), None);
        assert_eq!(inject("Hello", Mistake::Agreement, &mut r), None);
    }

    #[test]
    fn rule_made_pairs_are_reproducible_varied_and_pass_pith_own_check() {
        let all = sentences();
        assert!(all.len() >= 150);
        let pairs = proofread_pairs(&all, 3, 7);
        assert_eq!(pairs, proofread_pairs(&all, 3, 7));
        assert!(pairs.len() > all.len() * 2, "{}", pairs.len());
        let noisy = pairs.iter().filter(|p| p.input != p.target).count();
        assert!(noisy * 10 > pairs.len() * 8, "{noisy} of {}", pairs.len());
        // The target is always an acceptable proofread of the input.
        for p in &pairs {
            assert_eq!(
                check_rephrase(&p.input, &p.target, RephraseMode::Proofread),
                Ok(()),
                "{p:?}"
            );
        }
    }

    #[test]
    fn held_out_pairs_share_no_sentence_with_training_pairs() {
        let pairs = proofread_pairs(&sentences(), 2, 3);
        let (train, held) = split(pairs, 5);
        assert!(!held.is_empty() && train.len() > held.len() * 3);
        for h in &held {
            assert!(train.iter().all(|t| t.sentence != h.sentence));
        }
    }
}
