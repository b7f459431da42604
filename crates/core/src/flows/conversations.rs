//! Deleting a conversation: its messages and the model state saved for it
//! go together, from the window and from `pith history rm` alike.

use crate::engine::state::{conversation_key, StateStore};
use crate::error::Result;
use crate::history::{ConversationId, History};

/// Deletes conversation `id` from `history`, then its saved states in
/// `states` (for every model). A conversation that does not exist is
/// `NOT_FOUND` and nothing is touched.
pub fn delete(
    history: &mut History,
    states: Option<&StateStore>,
    id: ConversationId,
) -> Result<()> {
    history.delete(id)?;
    if let Some(states) = states {
        states.forget(&conversation_key(id.0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn deleting_a_conversation_removes_its_saved_state_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut h, _) = History::open(&dir.path().join("h.sqlite3")).expect("opens");
        let a = h.create_conversation("a", None).expect("a");
        let b = h.create_conversation("b", None).expect("b");
        let states = StateStore::new(dir.path().join("states"));
        std::fs::create_dir_all(dir.path().join("states")).expect("dir");
        let keep = states.path(&conversation_key(b.0), "m");
        let gone = states.path(&conversation_key(a.0), "m");
        std::fs::write(&keep, b"b").expect("write");
        std::fs::write(&gone, b"a").expect("write");
        delete(&mut h, Some(&states), a).expect("deleted");
        assert!(!gone.exists());
        assert!(keep.exists());
        assert_eq!(h.conversations().expect("list").len(), 1);
        let err = delete(&mut h, Some(&states), a).expect_err("gone");
        assert_eq!(err.code(), ErrorCode::NotFound);
        assert!(keep.exists());
    }
}
