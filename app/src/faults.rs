//! When the training worker dies: how the page tells what killed it, what it says about it,
//! and the faults the browser tests cause on purpose to check that the page recovers.
//!
//! A worker dies by a Rust panic (its hook posts `Crashed`, then the panic aborts), by a
//! WebAssembly trap or by running out of memory (the allocator's failure aborts, which is a
//! trap; the worker posts `OutOfMemory` first when it can), or by a message that cannot be
//! read. A trap is an error nothing in the worker catches: the browser fires `error` on the
//! page's `Worker` (`public/worker_faults.js` makes sure of that for the failures it would
//! otherwise keep inside the worker). The page hears of one death through several of these;
//! [`WorkerWatch`] keeps the most telling account, and the page recovers once per worker.
//! Free of the browser, so that native tests cover it.

use kindling_core::model::summary::human_bytes;
use serde::{Deserialize, Serialize};

/// The event a script dispatches on the page's `window` to make the worker fail on purpose:
/// `window.dispatchEvent(new CustomEvent("kindling-test-fault", { detail: "trap" }))`. Only
/// the browser tests do; no control of the page sends it, so nobody meets it by accident.
pub const FAULT_EVENT: &str = "kindling-test-fault";

/// A failure the worker causes on purpose (for the browser tests of recovery), each the way
/// the real one happens.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A WebAssembly trap (`unreachable`), as a bug in compiled code gives.
    Trap,
    /// Allocating until the allocator fails, as a model too big for the browser does.
    OutOfMemory,
    /// A Rust panic.
    Panic,
}

impl Fault {
    /// The fault named `name` (`trap`, `oom` or `panic`: a [`FAULT_EVENT`]'s detail).
    pub fn parse(name: &str) -> Option<Fault> {
        match name.trim() {
            "trap" => Some(Fault::Trap),
            "oom" => Some(Fault::OutOfMemory),
            "panic" => Some(Fault::Panic),
            _ => None,
        }
    }
}

/// What killed a worker, as the page learnt it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerDeath {
    /// It panicked: the panic's message.
    Panicked(String),
    /// Its memory allocator failed.
    OutOfMemory {
        /// Bytes it asked for.
        requested: u64,
        /// Bytes of WebAssembly memory it held then.
        memory: u64,
    },
    /// An error nothing in it caught (a trap, a script that would not load): the browser's
    /// text, which may be empty.
    Uncaught(String),
    /// A message between the page and the worker could not be read (it would be lost, and the
    /// page would wait for its answer).
    UnreadableMessage,
}

impl WorkerDeath {
    /// How much it tells: what the worker said of itself beats the browser's bare error.
    fn weight(&self) -> u8 {
        match self {
            WorkerDeath::Panicked(_) => 3,
            WorkerDeath::OutOfMemory { .. } => 2,
            WorkerDeath::UnreadableMessage => 1,
            WorkerDeath::Uncaught(_) => 0,
        }
    }

    /// Of two accounts of one death, the more telling (the first on a tie).
    pub fn or_better(self, other: WorkerDeath) -> WorkerDeath {
        if other.weight() > self.weight() {
            other
        } else {
            self
        }
    }

    /// The cause in words, for the run's record and the page's message.
    pub fn reason(&self) -> String {
        match self {
            WorkerDeath::Panicked(message) => {
                // A panic hook's text: "panicked at file:line:column:\nmessage".
                let message = message.replace('\n', " ");
                match message.strip_prefix("panicked at ") {
                    Some(rest) => format!("it panicked at {rest}"),
                    None => format!("it panicked ({message})"),
                }
            }
            WorkerDeath::OutOfMemory { requested, memory } => format!(
                "it ran out of memory: it asked for {} more while holding {} (a browser gives it \
                 about 4.3 GB at most); try a smaller model, batch or subset",
                human_bytes(*requested),
                human_bytes(*memory)
            ),
            WorkerDeath::Uncaught(text) if text.trim().is_empty() => {
                "it stopped on an error that gave no reason".into()
            }
            WorkerDeath::Uncaught(text) if text.contains("RuntimeError") => {
                format!("it hit a WebAssembly trap ({})", text.trim())
            }
            WorkerDeath::Uncaught(text) => format!("it stopped on an error ({})", text.trim()),
            WorkerDeath::UnreadableMessage => {
                "a message between the page and the worker could not be read".into()
            }
        }
    }
}

/// What the page knows of the worker it talks to: which one it is, whether it started, what
/// it said before dying, and whether it died.
#[derive(Debug, Default)]
pub struct WorkerWatch {
    /// Which worker this is (1 for the first): signs from an older one are ignored.
    generation: u64,
    /// It said it was ready.
    started: bool,
    /// What it said of itself that explains a death, should one follow (out of memory: an
    /// allocation can fail and be handled, so it is no death by itself).
    last_words: Option<WorkerDeath>,
    /// The signs of its death so far, the most telling kept.
    death: Option<WorkerDeath>,
}

impl WorkerWatch {
    /// Watches a new worker (forgetting the last one); returns its generation.
    pub fn new_worker(&mut self) -> u64 {
        *self = WorkerWatch {
            generation: self.generation + 1,
            ..WorkerWatch::default()
        };
        self.generation
    }

    /// Whether `generation` is the worker watched now.
    pub fn is_current(&self, generation: u64) -> bool {
        generation == self.generation
    }

    /// The worker said it was ready.
    pub fn started(&mut self) {
        self.started = true;
    }

    /// Whether it said it was ready.
    pub fn has_started(&self) -> bool {
        self.started
    }

    /// Whether a sign of its death came.
    pub fn is_dying(&self) -> bool {
        self.death.is_some()
    }

    /// Keeps what the worker said that would explain its death.
    pub fn last_words(&mut self, words: WorkerDeath) {
        self.last_words = Some(match self.last_words.take() {
            Some(earlier) => earlier.or_better(words),
            None => words,
        });
    }

    /// A sign that the worker died; true for the first one (the page then recovers, once).
    pub fn died(&mut self, sign: WorkerDeath) -> bool {
        let first = self.death.is_none();
        self.death = Some(match self.death.take() {
            Some(earlier) => earlier.or_better(sign),
            None => sign,
        });
        first
    }

    /// The death's account (the most telling of its signs and of the last words), and whether
    /// the worker had started; None while it lives.
    pub fn account(&self) -> Option<(WorkerDeath, bool)> {
        let death = self.death.clone()?;
        let death = match &self.last_words {
            Some(words) => death.or_better(words.clone()),
            None => death,
        };
        Some((death, self.started))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trap() -> WorkerDeath {
        WorkerDeath::Uncaught("Uncaught RuntimeError: unreachable".into())
    }

    #[test]
    fn a_panic_and_its_abort_read_as_the_panic_in_either_order() {
        for signs in [
            [WorkerDeath::Panicked("index out of bounds".into()), trap()],
            [trap(), WorkerDeath::Panicked("index out of bounds".into())],
        ] {
            let mut watch = WorkerWatch::default();
            let generation = watch.new_worker();
            watch.started();
            let [first, second] = signs;
            assert!(watch.died(first), "the first sign starts the recovery");
            assert!(!watch.died(second), "a second sign does not");
            let (death, started) = watch.account().unwrap();
            assert!(started);
            assert_eq!(death.reason(), "it panicked (index out of bounds)");
            let hook_text = WorkerDeath::Panicked("panicked at src/a.rs:1:2:\nno data".into());
            assert_eq!(hook_text.reason(), "it panicked at src/a.rs:1:2: no data");
            assert!(watch.is_current(generation));
        }
    }

    #[test]
    fn out_of_memory_explains_the_trap_that_follows_it() {
        let mut watch = WorkerWatch::default();
        watch.new_worker();
        watch.started();
        watch.last_words(WorkerDeath::OutOfMemory {
            requested: 268_435_456,
            memory: 4_026_531_840,
        });
        assert!(watch.account().is_none(), "no death by itself");
        assert!(watch.died(trap()));
        let reason = watch.account().unwrap().0.reason();
        assert!(
            reason.contains("out of memory") && reason.contains("268.4 MB"),
            "{reason}"
        );
        assert!(reason.contains("4.03 GB"), "{reason}");
    }

    #[test]
    fn a_bare_trap_a_failed_start_and_a_new_worker() {
        let mut watch = WorkerWatch::default();
        let first = watch.new_worker();
        assert!(watch.died(WorkerDeath::Uncaught(String::new())));
        let (death, started) = watch.account().unwrap();
        assert!(!started, "it died before it said it was ready");
        assert_eq!(death.reason(), "it stopped on an error that gave no reason");
        let second = watch.new_worker();
        assert!(!watch.is_current(first) && watch.is_current(second));
        assert!(!watch.is_dying() && !watch.has_started());
        assert!(watch.died(trap()));
        assert_eq!(
            watch.account().unwrap().0.reason(),
            "it hit a WebAssembly trap (Uncaught RuntimeError: unreachable)"
        );
        assert!(WorkerDeath::UnreadableMessage.reason().contains("message"));
    }

    #[test]
    fn faults_by_name() {
        assert_eq!(Fault::parse("trap"), Some(Fault::Trap));
        assert_eq!(Fault::parse(" oom"), Some(Fault::OutOfMemory));
        assert_eq!(Fault::parse("panic"), Some(Fault::Panic));
        assert_eq!(Fault::parse("reload"), None);
    }
}
