//! The builder's state: the run being built and the device picked in the header.

use kindling_core::{DeviceChoice, RunConfig};
use leptos::prelude::*;

/// The preset the page opens with.
const FIRST_PRESET: &str = "tinytoy-hw1";

/// The device the user wants runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeviceWanted {
    /// The faster for the run's model on this machine, measured once per model shape.
    #[default]
    Fastest,
    /// The one the user picked.
    Chosen(DeviceChoice),
}

impl DeviceWanted {
    /// The device picked, if one was.
    pub fn chosen(self) -> Option<DeviceChoice> {
        match self {
            DeviceWanted::Fastest => None,
            DeviceWanted::Chosen(d) => Some(d),
        }
    }
}

/// The run the user is building (Copy: a bundle of signals).
#[derive(Clone, Copy)]
pub struct BuilderState {
    /// The run being built.
    pub config: RwSignal<RunConfig>,
    /// The preset last chosen ("" after edits).
    pub preset: RwSignal<String>,
    /// The device the user wants.
    pub device: RwSignal<DeviceWanted>,
    /// The request id of an upload being read by the worker.
    pub pending_upload: RwSignal<Option<u64>>,
}

impl BuilderState {
    pub(super) fn new() -> Self {
        let config = RunConfig::preset(FIRST_PRESET).expect("the first preset exists");
        Self {
            config: RwSignal::new(config),
            preset: RwSignal::new(FIRST_PRESET.into()),
            device: RwSignal::new(DeviceWanted::Fastest),
            pending_upload: RwSignal::new(None),
        }
    }

    /// Changes the config by hand: it no longer is the preset it came from.
    pub fn edit(&self, change: impl FnOnce(&mut RunConfig)) {
        self.preset.set(String::new());
        self.config.update(change);
    }
}
