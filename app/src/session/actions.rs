//! What the user starts that spans several pieces of state: training (the builder's run, a
//! sweep's, a shared run's reproduction) and reading uploaded data.

use kindling_core::link::curve_distance;
use kindling_core::record::RunRecord;
use kindling_core::train::speed_key;
use kindling_core::{DeviceChoice, RunConfig};
use leptos::prelude::*;

use super::{DeviceWanted, Reproduction, Session};
use crate::protocol::{DevicePick, ToWorker};

impl Session {
    /// Starts a run of the builder's config on the chosen device.
    pub fn train(&self) {
        self.train_config(self.builder.config.get_untracked());
    }

    /// Starts a run of `config` on the chosen device. Changes steered in an earlier run (the
    /// builder holds them after Reproduce) are left behind: a new run is steered live.
    pub fn train_config(&self, mut config: RunConfig) {
        config.training.steering.clear();
        self.start_run(config, false, self.builder.device.get_untracked());
    }

    /// Step: a paused run trains exactly one batch; with none paused, the builder's run starts
    /// paused and trains its first batch.
    pub fn step(&self) {
        let paused = self.run.phase.get_untracked() == super::Phase::Paused;
        let wanted = self.builder.device.get_untracked();
        let mut config = self.builder.config.get_untracked();
        config.training.steering.clear();
        if paused || self.start_run(config, true, wanted) {
            self.worker.send(&ToWorker::Step);
        }
    }

    /// Starts a run of `config` on the device `wanted` (`paused`: to be stepped); false when
    /// its settings are refused.
    fn start_run(&self, mut config: RunConfig, paused: bool, wanted: DeviceWanted) -> bool {
        // The faster device is measured in the worker; the config names it once it is known.
        config.device = wanted.chosen().unwrap_or_default();
        let pick = match wanted {
            DeviceWanted::Fastest => DevicePick::Fastest {
                known: super::device_speeds::known(&speed_key(
                    &config,
                    self.worker.cpu_threads_available(),
                )),
            },
            DeviceWanted::Chosen(_) => DevicePick::AsConfigured,
        };
        if let Err(e) = config.validate() {
            self.messages.fail(format!("Fix this setting first: {e}"));
            return false;
        }
        let run_id = self.run.id.get_untracked() + 1;
        self.run.restart(run_id, config.clone());
        self.messages.error.set(None);
        self.messages.notice.set(None);
        self.predictions.clear();
        self.predictions.model_in_use.set(None);
        self.worker.send(&ToWorker::Start {
            run_id,
            config: Box::new(config),
            pick,
            paused,
        });
        true
    }

    /// Opens or closes the live views: closed, the worker computes none and the page drops
    /// the last ones; opened, the worker sends the current run's at once.
    pub fn set_views_open(&self, open: bool) {
        self.run.views_open.set(open);
        if !open {
            self.run.network.set(None);
            self.run.unit_images.set(None);
            self.run.health.set(None);
            self.run.boundary.set(None);
            self.run.focus.set(None);
        }
        self.worker.send(&ToWorker::Views { open });
    }

    /// Changes the paused run's hyper-parameters from its next batch on (the worker answers
    /// with the change as recorded, or why not).
    pub fn steer(&self, change: kindling_core::train::Steer) {
        if self.run.phase.get_untracked() == super::Phase::Paused {
            self.worker.send(&ToWorker::Steer { change });
        }
    }

    /// Retrains a shared run with its config and seed, to compare the curves.
    pub fn reproduce(&self, id: u64) {
        let Some(run) = self.kept.get(id) else {
            return;
        };
        let mut device = run.config.device;
        if device == DeviceChoice::Wgpu && self.worker.webgpu.get_untracked() != Some(true) {
            device = DeviceChoice::Cpu;
        }
        // The builder gets the run's settings; its changes while paused stay with the run
        // (a new run from the builder is steered live).
        let mut settings = run.config.clone();
        settings.training.steering.clear();
        self.builder.config.set(settings);
        self.builder.preset.set(String::new());
        self.kept.reproducing.set(Some(id));
        self.kept.reproduction.set(None);
        // On the shared run's device, for this run only: the Device menu keeps its choice.
        self.start_run(run.config.clone(), false, DeviceWanted::Chosen(device));
    }

    /// Compares a reproduced run with the shared run it retrained, if it was one.
    pub(super) fn finish_reproduction(&self, reproduced: &RunRecord) {
        let Some(id) = self.kept.reproducing.get_untracked() else {
            return;
        };
        self.kept.reproducing.set(None);
        let Some(shared) = self.kept.get(id) else {
            return;
        };
        let points = self.run.points.get_untracked();
        let (loss, accuracy) = curve_distance(&shared.curve, &points);
        let recorded = shared.final_accuracy().unwrap_or(0.0);
        let now = reproduced.final_accuracy().unwrap_or(0.0);
        let same_device = shared.config.device == reproduced.config.device;
        let regression = shared.config.dataset.is_regression();
        let figure = kindling_core::train::score::figure_name(regression);
        let text = format!(
            "Reproduced \"{}\": final {figure} {} (recorded {}); at the {} recorded curve points the loss differs by at most {:.3}% and the {figure} by {:.4}{}",
            shared.name,
            kindling_core::train::score::format_figure(now, regression),
            kindling_core::train::score::format_figure(recorded, regression),
            shared.curve.len(),
            loss * 100.0,
            accuracy,
            if same_device {
                " (same device: expected within 0.1% loss, the link's rounding)."
            } else {
                " (another device than the recorded run: small differences are expected)."
            }
        );
        self.kept.reproduction.set(Some(Reproduction {
            text,
            accuracy_difference: (now - recorded).abs(),
            loss_difference: loss,
        }));
    }

    /// Sends the user's files to the worker to read as a dataset; on success the builder
    /// switches to it, on failure nothing changes.
    pub fn upload_data(&self, files: Vec<(String, Vec<u8>)>) {
        let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        let sizes: Vec<usize> = files.iter().map(|(_, b)| b.len()).collect();
        let mut bytes = Vec::with_capacity(sizes.iter().sum());
        for (_, file) in &files {
            bytes.extend_from_slice(file);
        }
        drop(files);
        let request = self.predictions.next_request();
        self.builder.pending_upload.set(Some(request));
        self.messages.error.set(None);
        self.messages
            .tell(format!("Reading {}…", names.join(" and ")));
        self.worker.send(&ToWorker::UploadData {
            request,
            names,
            sizes,
            bytes,
        });
    }
}
