//! The page's state and what changes it.
//!
//! The state is split into narrow pieces, each provided as a context of its own so that a
//! component asks only for what it shows:
//! - [`BuilderState`] (`builder.rs`): the run being built and the device picked;
//! - [`CurrentRun`] (`current_run.rs`): what the run in progress shows (phase, progress,
//!   curves, epochs, boundary, preview, report);
//! - [`Predictions`] (`predictions.rs`): the drawing's and the review's answers;
//! - [`KeptRuns`] (`kept_runs.rs`): every run kept in the browser, the table's selection,
//!   share links and reproductions;
//! - [`Sweeps`] (`sweeps.rs`): the sweep in progress;
//! - [`Messages`] (`messages.rs`): the notice and the error shown to the user;
//! - [`WorkerLink`] (`worker_link.rs`): sending to the worker; whether it is up and has WebGPU.
//!
//! [`Session`] bundles them for the actions that span several (training, reproducing,
//! importing). Worker messages are handled in `receive.rs` (one handler per message, an
//! exhaustive match; predictions' answers in `predictions.rs`, layer health in `health.rs`); runs are kept in IndexedDB by `persistence.rs` (through `store.rs`, whose writes wait in
//! `crate::write_queue`),
//! which also imports and exports models; `links.rs` opens a share link in the address (at
//! start, and when only the fragment changes in an open tab); `worker_link.rs` starts the
//! worker, carries messages to it and notices when it dies; `recovery.rs` fails the run of a
//! dead worker and starts a fresh one; `actions.rs` holds what the user starts (train,
//! reproduce, upload); `tabs.rs` keeps several open tabs right (a lock per training run, a
//! channel announcing every write to the store).

mod actions;
mod builder;
mod current_run;
mod device_speeds;
mod health;
mod kept_runs;
mod links;
mod messages;
mod persistence;
mod predictions;
mod receive;
mod recovery;
pub mod store;
mod sweeps;
mod tabs;
mod worker_kind;
mod worker_link;

use leptos::prelude::*;

pub use builder::{BuilderState, DeviceWanted};
pub use current_run::{CellExamples, CurrentRun, Phase};
pub use kept_runs::{KeptRuns, Reproduction};
pub use messages::Messages;
pub use predictions::{DigitGuess, Predictions, ReviewGuess};
pub use sweeps::{SweepRun, SweepState, Sweeps};
pub use worker_link::WorkerLink;

/// Every piece of the page's state (Copy: each field is a bundle of signals).
#[derive(Clone, Copy)]
pub struct Session {
    /// The run being built.
    pub builder: BuilderState,
    /// The run in progress.
    pub run: CurrentRun,
    /// Answers for the drawing and the review box.
    pub predictions: Predictions,
    /// Runs kept in the browser.
    pub kept: KeptRuns,
    /// The sweep in progress.
    pub sweeps: Sweeps,
    /// What the user is told.
    pub messages: Messages,
    /// The link to the worker and what it said of itself.
    pub worker: WorkerLink,
}

impl Session {
    fn new() -> Self {
        let messages = Messages::new();
        Self {
            builder: BuilderState::new(),
            run: CurrentRun::new(),
            predictions: Predictions::new(),
            kept: KeptRuns::new(),
            sweeps: Sweeps::new(),
            messages,
            worker: WorkerLink::new(messages),
        }
    }
}

/// Makes the page's state, provides it (the whole and each piece as its own context), starts
/// the worker and loads the kept runs (and the run of a share link in the address, now and
/// whenever the address's fragment changes).
pub fn provide_session() {
    let session = Session::new();
    provide_context(session);
    provide_context(session.builder);
    provide_context(session.run);
    provide_context(session.predictions);
    provide_context(session.kept);
    provide_context(session.sweeps);
    provide_context(session.messages);
    provide_context(session.worker);
    worker_link::start_first_worker(session);
    worker_link::listen_for_test_faults(session.worker);
    persistence::load_runs(session);
    links::open_link_in_address(session);
    links::watch_address(session);
    tabs::listen(move |id| session.refresh_run(id));
}

/// The whole session, for components that start actions spanning several pieces of state.
pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The builder's state.
pub fn use_builder() -> BuilderState {
    expect_context::<BuilderState>()
}

/// The run in progress.
pub fn use_current_run() -> CurrentRun {
    expect_context::<CurrentRun>()
}

/// The prediction answers.
pub fn use_predictions() -> Predictions {
    expect_context::<Predictions>()
}

/// The kept runs.
pub fn use_kept_runs() -> KeptRuns {
    expect_context::<KeptRuns>()
}

/// The sweep in progress.
pub fn use_sweeps() -> Sweeps {
    expect_context::<Sweeps>()
}

/// The notice and the error.
pub fn use_messages() -> Messages {
    expect_context::<Messages>()
}

/// The link to the worker and what it said of itself.
pub fn use_worker() -> WorkerLink {
    expect_context::<WorkerLink>()
}
