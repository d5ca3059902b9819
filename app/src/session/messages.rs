//! What the user is told: one notice (a device fallback, a loaded file) and one error.

use leptos::prelude::*;

/// The notice and the error shown above the training panel (Copy: a bundle of signals).
#[derive(Clone, Copy)]
pub struct Messages {
    /// A note to show (device fallback, stop).
    pub notice: RwSignal<Option<String>>,
    /// An error to show.
    pub error: RwSignal<Option<String>>,
}

impl Messages {
    pub(super) fn new() -> Self {
        Self {
            notice: RwSignal::new(None),
            error: RwSignal::new(None),
        }
    }

    /// Shows an error.
    pub fn fail(&self, text: impl Into<String>) {
        self.error.set(Some(text.into()));
    }

    /// Shows a notice.
    pub fn tell(&self, text: impl Into<String>) {
        self.notice.set(Some(text.into()));
    }

    /// A callback that shows `context: reason` as the error (for background saves).
    pub fn reporter(&self, context: &'static str) -> impl Fn(String) + 'static {
        let error = self.error;
        move |e| error.set(Some(format!("{context}: {e}")))
    }
}
