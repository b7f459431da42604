//! Where the desktop window opens: its last size and place, kept only when
//! it still fits a screen. Pure geometry over plain numbers (physical
//! pixels), so the rule is tested without a display.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// How much of the window must lie on a screen for the saved place to be
/// used: enough to see and grab it.
const VISIBLE: u32 = 80;

impl Rect {
    fn overlap(&self, other: &Rect) -> (u32, u32) {
        let span = |a: i32, al: u32, b: i32, bl: u32| {
            let lo = a.max(b);
            let hi = (a + al as i32).min(b + bl as i32);
            u32::try_from(hi - lo).unwrap_or(0)
        };
        (
            span(self.x, self.width, other.x, other.width),
            span(self.y, self.height, other.y, other.height),
        )
    }
}

/// The window's place from `saved` on these `screens`: the size is kept
/// between `min` and the largest screen; the position only when a good
/// part of the window is on some screen (a monitor may have been
/// unplugged). `None` means the default place.
pub fn restore(saved: Rect, screens: &[Rect], min: (u32, u32)) -> Option<Rect> {
    let largest = screens
        .iter()
        .max_by_key(|s| u64::from(s.width) * u64::from(s.height))?;
    let width = saved.width.clamp(min.0, largest.width.max(min.0));
    let height = saved.height.clamp(min.1, largest.height.max(min.1));
    let placed = Rect {
        width,
        height,
        ..saved
    };
    let seen = screens.iter().any(|s| {
        let (w, h) = placed.overlap(s);
        w >= VISIBLE.min(width) && h >= VISIBLE.min(height) && placed.y >= s.y - 8
    });
    if seen {
        return Some(placed);
    }
    // Off every screen: keep the size, centre it on the largest screen.
    Some(Rect {
        x: largest.x + (largest.width.saturating_sub(width) / 2) as i32,
        y: largest.y + (largest.height.saturating_sub(height) / 2) as i32,
        width,
        height,
    })
}

/// Where the rephrase popup opens: just below and right of the pointer,
/// moved as needed to lie wholly on the screen under the pointer (the
/// first screen when the pointer is on none).
pub fn popup_place(pointer: (i32, i32), size: (u32, u32), screens: &[Rect]) -> (i32, i32) {
    const OFFSET: i32 = 16;
    let (px, py) = pointer;
    let screen = screens
        .iter()
        .find(|s| px >= s.x && py >= s.y && px < s.x + s.width as i32 && py < s.y + s.height as i32)
        .or(screens.first());
    let Some(s) = screen else {
        return (px + OFFSET, py + OFFSET);
    };
    let fit = |p: i32, len: u32, lo: i32, span: u32| {
        let hi = lo + span as i32 - len as i32;
        p.min(hi).max(lo)
    };
    // Below the pointer when there is room, else above it.
    let below = py + OFFSET;
    let y = if below + size.1 as i32 <= s.y + s.height as i32 {
        below
    } else {
        py - OFFSET - size.1 as i32
    };
    (
        fit(px + OFFSET, size.0, s.x, s.width),
        fit(y, size.1, s.y, s.height),
    )
}

/// Reads the saved place; a missing or damaged file is no place at all.
pub fn load(path: &Path) -> Option<Rect> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Saves the place (write then rename: a crash never leaves half a file).
pub fn save(path: &Path, rect: Rect) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string(&rect).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// How long the window must stay still before its place is saved.
pub const SETTLE: Duration = Duration::from_millis(400);

/// Calls `on_settled` once events have stopped arriving for `quiet`: a
/// window dragged across the screen sends hundreds of moves, and its place
/// is written once, when it stops. One thread waits for all of them; it
/// ends when every sender is dropped (a last burst is still saved).
pub fn on_settled(
    quiet: Duration,
    mut on_settled: impl FnMut() + Send + 'static,
) -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            loop {
                match rx.recv_timeout(quiet) {
                    Ok(()) => continue,
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        on_settled();
                        return;
                    }
                }
            }
            on_settled();
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: Rect = Rect {
        x: 0,
        y: 0,
        width: 1920,
        height: 1080,
    };
    const MIN: (u32, u32) = (640, 480);

    fn r(x: i32, y: i32, width: u32, height: u32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn a_window_on_screen_comes_back_where_it_was() {
        assert_eq!(
            restore(r(100, 50, 800, 600), &[SCREEN], MIN),
            Some(r(100, 50, 800, 600))
        );
        // Partly off the right edge, but grabbable.
        assert_eq!(
            restore(r(1800, 50, 800, 600), &[SCREEN], MIN),
            Some(r(1800, 50, 800, 600))
        );
    }

    #[test]
    fn sizes_stay_between_the_minimum_and_the_screen() {
        assert_eq!(
            restore(r(10, 10, 200, 100), &[SCREEN], MIN),
            Some(r(10, 10, 640, 480))
        );
        assert_eq!(
            restore(r(0, 0, 5000, 4000), &[SCREEN], MIN),
            Some(r(0, 0, 1920, 1080))
        );
    }

    #[test]
    fn a_window_left_on_an_unplugged_screen_is_centred_on_one_that_is_there() {
        let gone = r(2500, 100, 800, 600);
        assert_eq!(restore(gone, &[SCREEN], MIN), Some(r(560, 240, 800, 600)));
        // The same place is fine while the second screen is connected.
        let second = r(1920, 0, 1920, 1080);
        assert_eq!(restore(gone, &[SCREEN, second], MIN), Some(gone));
        // A title bar above the top of every screen cannot be grabbed.
        assert_eq!(
            restore(r(100, -300, 800, 600), &[SCREEN], MIN),
            Some(r(560, 240, 800, 600))
        );
    }

    #[test]
    fn the_popup_opens_by_the_pointer_and_stays_on_its_screen() {
        let second = r(1920, 0, 1280, 1024);
        let screens = [SCREEN, second];
        assert_eq!(popup_place((100, 100), (480, 320), &screens), (116, 116));
        // Near the right edge: pulled left; near the bottom: above the pointer.
        assert_eq!(popup_place((1900, 100), (480, 320), &screens), (1440, 116));
        assert_eq!(popup_place((500, 1000), (480, 320), &screens), (516, 664));
        // On the second screen, kept there.
        assert_eq!(popup_place((3150, 10), (480, 320), &screens), (2720, 26));
        // A pointer off every screen puts it on the first.
        assert_eq!(popup_place((-50, -50), (480, 320), &screens), (0, 0));
    }

    #[test]
    fn no_screen_means_the_default_place() {
        assert_eq!(restore(r(0, 0, 800, 600), &[], MIN), None);
    }

    #[test]
    fn the_place_round_trips_and_a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("window.json");
        assert_eq!(load(&path), None);
        save(&path, r(5, 6, 700, 500)).expect("save");
        assert_eq!(load(&path), Some(r(5, 6, 700, 500)));
        std::fs::write(&path, "{\"x\": 1").expect("write");
        assert_eq!(load(&path), None);
    }

    #[test]
    fn a_burst_of_moves_is_saved_once_when_it_stops() {
        let (done, saved) = mpsc::channel();
        let tx = on_settled(Duration::from_millis(50), move || {
            let _ = done.send(());
        });
        for _ in 0..100 {
            tx.send(()).expect("sends");
        }
        saved
            .recv_timeout(Duration::from_secs(5))
            .expect("saved after the burst");
        assert!(
            saved.recv_timeout(Duration::from_millis(200)).is_err(),
            "once for the whole burst"
        );
        tx.send(()).expect("sends");
        saved
            .recv_timeout(Duration::from_secs(5))
            .expect("a later move is saved again");
        // Quitting in the middle of a move still saves it.
        tx.send(()).expect("sends");
        drop(tx);
        saved
            .recv_timeout(Duration::from_secs(5))
            .expect("saved on the way out");
    }
}
