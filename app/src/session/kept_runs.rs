//! The runs kept in the browser, as the runs table shows them: the list, the selection, the
//! last deletion (for undo), the last share link and the reproduction of a shared run.

use kindling_core::lesson::Lesson;
use kindling_core::record::RunRecord;
use leptos::prelude::*;

/// How the retraining of a shared run compares with what its link recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Reproduction {
    /// The comparison in words.
    pub text: String,
    /// |final accuracy now - final accuracy recorded|.
    pub accuracy_difference: f64,
    /// Largest relative loss difference at the recorded curve points.
    pub loss_difference: f64,
}

/// The kept runs (Copy: a bundle of signals).
#[derive(Clone, Copy)]
pub struct KeptRuns {
    /// Every run kept (stored ones, and a shared one opened from a link).
    pub runs: RwSignal<Vec<RunRecord>>,
    /// Runs selected in the table (for the overlay and the diff).
    pub selected: RwSignal<Vec<u64>>,
    /// The last deleted run, for undo.
    pub deleted: RwSignal<Option<RunRecord>>,
    /// The last share link made.
    pub share_link: RwSignal<Option<String>>,
    /// The last "Run natively" command made.
    pub native_command: RwSignal<Option<String>>,
    /// The shared run being reproduced.
    pub reproducing: RwSignal<Option<u64>>,
    /// How the last reproduction compares.
    pub reproduction: RwSignal<Option<Reproduction>>,
    /// The lesson of the link opened, with its shared run's id.
    pub lesson: RwSignal<Option<(Lesson, u64)>>,
}

impl KeptRuns {
    pub(super) fn new() -> Self {
        Self {
            runs: RwSignal::new(Vec::new()),
            selected: RwSignal::new(Vec::new()),
            deleted: RwSignal::new(None),
            share_link: RwSignal::new(None),
            native_command: RwSignal::new(None),
            reproducing: RwSignal::new(None),
            reproduction: RwSignal::new(None),
            lesson: RwSignal::new(None),
        }
    }

    /// A copy of the kept run `id`, if there is one.
    pub fn get(&self, id: u64) -> Option<RunRecord> {
        self.runs
            .with_untracked(|r| r.iter().find(|r| r.id == id).cloned())
    }

    /// A new unique run id, after every existing id: milliseconds now times 1,000 plus a
    /// random draw, so that two tabs starting a run in the same millisecond (each knowing only
    /// the runs it has read) do not collide. Below 2^53 until the year 2255: exact as the
    /// JS number IndexedDB keys it by.
    pub fn new_id(&self) -> u64 {
        let now = js_sys::Date::now() as u64 * 1000 + (js_sys::Math::random() * 1000.0) as u64;
        let last = self
            .runs
            .with_untracked(|r| r.iter().map(|r| r.id).max().unwrap_or(0));
        now.max(last + 1)
    }
}
