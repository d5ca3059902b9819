//! Training settings: engine, optimizer, loss, schedule, seed.

use kindling_core::train::{L2Mode, LossKind, LrDecay, OptimizerKind};
use kindling_core::Engine;
use leptos::prelude::*;

use crate::builder::{enum_name, parse_enum};
use crate::components::fields::{number_field, select_field};
use crate::session::use_builder;

use super::named;

/// Optimizer, loss, schedule, engine.
#[component]
pub(super) fn TrainingSection() -> impl IntoView {
    let builder = use_builder();
    let hw1_possible = move || builder.config.with(|c| c.hw1_config().is_ok());
    view! {
        <div class="group" data-lesson="training">
            <h3>"Training"</h3>
            <div class="row">
                <label class="field">
                    <span>"Engine"</span>
                    <select
                        data-testid="engine"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            builder.edit(|c| {
                                c.engine = if v == "hand_written" { Engine::HandWritten } else { Engine::Autodiff }
                            });
                        }
                    >
                        <option value="autodiff" selected=move || builder.config.with(|c| c.engine == Engine::Autodiff)>
                            "burn autodiff"
                        </option>
                        <option
                            value="hand_written"
                            disabled=move || !hw1_possible()
                            selected=move || builder.config.with(|c| c.engine == Engine::HandWritten)
                        >
                            "hand-written backprop (HW1)"
                        </option>
                    </select>
                </label>
                {select_field(
                    "Optimizer",
                    "optimizer",
                    named(&[OptimizerKind::Sgd, OptimizerKind::Adam, OptimizerKind::RmsProp], |k| match k {
                        OptimizerKind::Sgd => "SGD".into(),
                        OptimizerKind::Adam => "Adam".into(),
                        OptimizerKind::RmsProp => "RMSprop".into(),
                    }),
                    |c| enum_name(&c.training.optimizer.kind),
                    |c, v| if let Some(k) = parse_enum(v) { c.training.optimizer.kind = k },
                )}
                {number_field(
                    "Learning rate",
                    "learning-rate",
                    "any",
                    |c| c.training.optimizer.learning_rate,
                    |c, v| c.training.optimizer.learning_rate = v,
                )}
                {number_field(
                    "Rate × per epoch",
                    "lr-decay",
                    "0.05",
                    |c| c.training.lr_decay.0,
                    |c, v| c.training.lr_decay = LrDecay(v),
                )}
                {number_field(
                    "Momentum (SGD)",
                    "momentum",
                    "0.1",
                    |c| c.training.optimizer.momentum,
                    |c, v| c.training.optimizer.momentum = v,
                )}
            </div>
            <div class="row">
                {select_field(
                    "Loss",
                    "loss",
                    named(&[LossKind::SoftmaxCrossEntropy, LossKind::BinaryCrossEntropy, LossKind::Quadratic, LossKind::MeanSquaredError], |l| l.name().to_string()),
                    |c| enum_name(&c.training.loss),
                    |c, v| if let Some(l) = parse_enum(v) { c.training.loss = l },
                )}
                {select_field(
                    "L2 acts as",
                    "l2-mode",
                    named(&[L2Mode::KerasLoss, L2Mode::WeightDecay], |m| match m {
                        L2Mode::KerasLoss => "loss term (Keras)".into(),
                        L2Mode::WeightDecay => "weight decay (HW1)".into(),
                    }),
                    |c| enum_name(&c.training.l2_mode),
                    |c, v| if let Some(m) = parse_enum(v) { c.training.l2_mode = m },
                )}
                {number_field(
                    "Batch size",
                    "batch-size",
                    "1",
                    |c| c.training.batch_size as f64,
                    |c, v| c.training.batch_size = v as usize,
                )}
                {number_field(
                    "Epochs",
                    "epochs",
                    "1",
                    |c| c.training.epochs as f64,
                    |c, v| c.training.epochs = v as usize,
                )}
                {number_field(
                    "Seed",
                    "seed",
                    "1",
                    |c| c.training.seed as f64,
                    |c, v| c.training.seed = v as u64,
                )}
            </div>
        </div>
    }
}
