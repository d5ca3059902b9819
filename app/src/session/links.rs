//! Share links in the address. The run of a link (`#run=k1....`) opens when the page does, and
//! also when only the fragment changes in an open tab: a link pasted into a tab that already
//! shows Kindling, or the history's back and forward, do not reload the page, so the page
//! listens for `hashchange` (and `popstate`) and opens the link the same way, a tampered one
//! refused with the same message.

use std::cell::RefCell;

use kindling_core::lesson::{Lesson, LessonError};
use kindling_core::link::decode_link;
use kindling_core::record::RunRecord;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::Session;

/// What marks a fragment as a share link.
const LINK_KEY: &str = "run=";

thread_local! {
    /// The fragment last read (both `hashchange` and `popstate` come for one change).
    static LAST_FRAGMENT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The address's fragment (`#...`), if it has changed since the last call.
fn new_fragment() -> Option<String> {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    LAST_FRAGMENT.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_deref() == Some(hash.as_str()) {
            None
        } else {
            *last = Some(hash.clone());
            Some(hash)
        }
    })
}

/// Opens the run of a share link in the address, if there is one (at start, or after the
/// fragment changed).
pub(super) fn open_link_in_address(session: Session) {
    if let Some(hash) = new_fragment().filter(|h| h.contains(LINK_KEY)) {
        open_link(session, &hash);
    }
}

/// Opens the run of a link pasted into this tab (only the fragment changes: no reload).
pub(super) fn watch_address(session: Session) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_change =
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| open_link_in_address(session));
    for event in ["hashchange", "popstate"] {
        let _ = window.add_event_listener_with_callback(event, on_change.as_ref().unchecked_ref());
    }
    // Listens for the page's lifetime.
    on_change.forget();
}

/// Whether `a` and `b` are the same shared run (the ids the page gave them aside).
fn same_shared_run(a: &RunRecord, b: &RunRecord) -> bool {
    a.shared
        && b.shared
        && RunRecord {
            id: b.id,
            ..a.clone()
        } == *b
}

/// Lists the run of the link `text` (read-only, selected), or says why it cannot be opened;
/// the stored runs are never changed. A run already listed from the same link is selected.
fn open_link(session: Session, text: &str) {
    match decode_link(text) {
        Ok(mut run) => {
            let lesson = Lesson::of_link(text);
            if run.name.trim().is_empty() {
                run.name = "shared run".into();
            }
            session.messages.error.set(None);
            let listed = session.kept.runs.with_untracked(|runs| {
                runs.iter().find(|r| same_shared_run(r, &run)).map(|r| r.id)
            });
            if let Some(id) = listed {
                session.kept.selected.set(vec![id]);
                if start_lesson(session, lesson, &run, id) {
                    return;
                }
                session.messages.tell(
                    "That shared run is already listed under Runs: it is selected; press Reproduce to train it again here.",
                );
                return;
            }
            run.id = session.kept.new_id();
            let id = run.id;
            session.kept.runs.update(|r| r.push(run.clone()));
            session.kept.selected.set(vec![id]);
            if start_lesson(session, lesson, &run, id) {
                return;
            }
            session.messages.tell(
                "Opened a shared run: it is listed under Runs, read-only; press Reproduce to train it again here.",
            );
        }
        Err(e) => session.messages.fail(format!(
            "The run link in the address cannot be opened: {e}. Your stored runs are unchanged."
        )),
    }
}

/// Starts the lesson of a link whose run (`run`, listed as `id`) opened: the builder gets the
/// run's settings (Train trains it), the page hides what the lesson hides and points at its
/// panel. True when it told the user so; a lesson that cannot be read is said, and the run
/// opens without it.
fn start_lesson(
    session: Session,
    lesson: Result<Option<Lesson>, LessonError>,
    run: &RunRecord,
    id: u64,
) -> bool {
    match lesson {
        Ok(Some(lesson)) => {
            let mut settings = run.config.clone();
            settings.training.steering.clear();
            session.builder.config.set(settings);
            session.builder.preset.set(String::new());
            session.kept.lesson.set(Some((lesson, id)));
            true
        }
        Ok(None) => {
            session.kept.lesson.set(None);
            false
        }
        Err(e) => {
            session.kept.lesson.set(None);
            session.messages.tell(format!(
                "Opened a shared run, but {e}: the page shows every control."
            ));
            true
        }
    }
}
