//! Saved states of one sequence at chosen points of a prompt, kept in
//! memory: how a model whose memory cannot drop its last tokens (recurrent
//! and hybrid layers, a sliding window that has moved on) reuses a prefix.
//! Instead of cutting the cache back, the engine restores the longest
//! checkpoint the new prompt starts with. The choice is here, over token
//! ids; the state itself is the engine's (`S`).

/// One saved state: the tokens it holds and its size.
#[derive(Debug, Clone)]
pub struct Checkpoint<S> {
    pub tokens: Vec<i32>,
    pub state: S,
    pub bytes: usize,
    used: u64,
}

/// A few checkpoints, bounded in count and bytes; the least recently used
/// goes first.
#[derive(Debug, Clone)]
pub struct Checkpoints<S> {
    items: Vec<Checkpoint<S>>,
    max_items: usize,
    max_bytes: usize,
    clock: u64,
}

impl<S> Checkpoints<S> {
    pub fn new(max_items: usize, max_bytes: usize) -> Self {
        Self {
            items: Vec::new(),
            max_items,
            max_bytes,
            clock: 0,
        }
    }

    /// The longest checkpoint `tokens` starts with, leaving at least one
    /// token of the prompt to evaluate (its logits are needed); marked used.
    pub fn best(&mut self, tokens: &[i32]) -> Option<&Checkpoint<S>> {
        let limit = tokens.len().saturating_sub(1);
        let i = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.tokens.is_empty() && c.tokens.len() <= limit)
            .filter(|(_, c)| tokens.starts_with(&c.tokens))
            .max_by_key(|(_, c)| c.tokens.len())
            .map(|(i, _)| i)?;
        self.clock += 1;
        self.items[i].used = self.clock;
        Some(&self.items[i])
    }

    /// Whether a checkpoint of exactly these tokens is kept.
    pub fn has(&self, tokens: &[i32]) -> bool {
        self.items.iter().any(|c| c.tokens == tokens)
    }

    /// Keeps a state of `tokens`, replacing one of the same tokens, then
    /// drops the least recently used until the bounds hold. A state larger
    /// than the whole budget is not kept.
    pub fn add(&mut self, tokens: Vec<i32>, state: S, bytes: usize) {
        if bytes > self.max_bytes || self.max_items == 0 {
            return;
        }
        self.items.retain(|c| c.tokens != tokens);
        self.clock += 1;
        self.items.push(Checkpoint {
            tokens,
            state,
            bytes,
            used: self.clock,
        });
        while self.items.len() > self.max_items
            || self.items.iter().map(|c| c.bytes).sum::<usize>() > self.max_bytes
        {
            let oldest = self
                .items
                .iter()
                .enumerate()
                .min_by_key(|(_, c)| c.used)
                .map(|(i, _)| i);
            match oldest {
                Some(i) => self.items.remove(i),
                None => break,
            };
        }
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_checkpoint_the_prompt_starts_with_is_chosen() {
        let mut c = Checkpoints::new(4, 1000);
        c.add(vec![1, 2], "ab", 10);
        c.add(vec![1, 2, 3, 4], "abcd", 10);
        c.add(vec![1, 9, 9], "other", 10);
        assert_eq!(c.best(&[1, 2, 3, 4, 5]).map(|k| k.state), Some("abcd"));
        // The whole prompt is never restored: its last token must be evaluated.
        assert_eq!(c.best(&[1, 2, 3, 4]).map(|k| k.state), Some("ab"));
        assert_eq!(c.best(&[1, 2, 7]).map(|k| k.state), Some("ab"));
        assert!(c.best(&[5, 1, 2]).is_none());
        assert!(c.best(&[]).is_none());
    }

    #[test]
    fn the_least_recently_used_goes_when_a_bound_is_passed() {
        let mut c = Checkpoints::new(2, 100);
        c.add(vec![1], "a", 10);
        c.add(vec![2], "b", 10);
        assert!(c.best(&[1, 0]).is_some());
        c.add(vec![3], "c", 10);
        assert!(c.has(&[1]) && c.has(&[3]) && !c.has(&[2]));
        // Bytes: a large state pushes out older ones; one over the budget is not kept.
        c.add(vec![4], "d", 95);
        assert_eq!(c.len(), 1);
        c.add(vec![5], "e", 101);
        assert!(c.has(&[4]) && !c.has(&[5]));
        // The same tokens again replace the old state.
        c.add(vec![4], "d2", 5);
        assert_eq!(c.len(), 1);
        assert_eq!(c.best(&[4, 0]).map(|k| k.state), Some("d2"));
        c.clear();
        assert!(c.is_empty());
    }
}
