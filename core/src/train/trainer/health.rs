//! The trainer's layer-health probe: on a step it is asked to (or on each epoch's last step),
//! it reads every parameter before and after the optimizer's update with its gradient, and
//! every layer's outputs on the first examples of the batch, into a [`HealthReport`].

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Int, Tensor, TensorData};

use super::{TrainError, Trainer};
use crate::device::read_f32s;
use crate::inside::health::{
    health_report, relu_layers, ActivationReading, HealthReport, ParamCollector, ParamReading,
    HISTOGRAM_SAMPLE, PROBE_EXAMPLES,
};
use crate::model::cnn::LayerOutput;
use crate::model::{BatchInput, Model, ModelConfig};

/// What a probed step keeps until its update is done: each parameter (with its gradient)
/// before the update, and the first examples of the batch.
pub(super) struct Probe {
    before: Vec<(Tensor<1>, Option<Tensor<1>>)>,
    input: BatchInput,
    epoch_end: bool,
}

/// Most reports of probed steps kept until taken.
const PENDING_REPORTS: usize = 16;

async fn read(t: Tensor<1>) -> Result<Vec<f32>, TrainError> {
    read_f32s(t).await.map_err(TrainError::Device)
}

/// At most [`HISTOGRAM_SAMPLE`] of `t`'s values, evenly strided.
fn sample(t: Tensor<1>) -> Tensor<1> {
    let n = t.dims()[0];
    if n <= HISTOGRAM_SAMPLE {
        return t;
    }
    let step = n.div_ceil(HISTOGRAM_SAMPLE);
    let at: Vec<i64> = (0..n).step_by(step).map(|i| i as i64).collect();
    let len = at.len();
    let indices = Tensor::<1, Int>::from_data(TensorData::new(at, [len]), &t.device());
    t.select(0, indices)
}

/// The sum of the squares of `t`'s values, on its device: [1].
fn squares(t: Tensor<1>) -> Tensor<1> {
    (t.clone() * t).sum()
}

/// One parameter before and after the step, with its gradient: its sums of squares (one
/// read-back of three figures) and samples of its values and gradient.
async fn reading(
    before: Tensor<1>,
    gradient: Option<Tensor<1>>,
    after: Tensor<1>,
) -> Result<ParamReading, TrainError> {
    let values = before.dims()[0];
    let device = before.device();
    let gradient_squares = match &gradient {
        Some(g) => squares(g.clone()),
        None => Tensor::<1>::zeros([1], &device),
    };
    let sums = read(Tensor::cat(
        vec![
            squares(before.clone()),
            gradient_squares,
            squares(after - before.clone()),
        ],
        0,
    ))
    .await?;
    Ok(ParamReading {
        values,
        weight_squares: f64::from(sums[0]),
        gradient_squares: f64::from(sums[1]),
        change_squares: f64::from(sums[2]),
        before: read(sample(before)).await?,
        gradient: match gradient {
            Some(g) => read(sample(g)).await?,
            None => Vec::new(),
        },
    })
}

/// Each layer's output on `input`, as the health report reads them (Mlp and CNN layers as
/// the layer view names them; a recurrent layer's last state).
fn layer_outputs(
    model: &Model,
    config: &ModelConfig,
    input: BatchInput,
) -> Vec<(String, LayerOutput)> {
    match (model, input) {
        (Model::Mlp(m), BatchInput::Features(x)) => m.layer_outputs(x).0,
        (Model::Mlp(m), BatchInput::Images(x)) => m.layer_outputs(x.flatten(1, 3)).0,
        (Model::Cnn(m), BatchInput::Images(x)) => m.layer_outputs(x).0,
        (Model::Sequence(m), BatchInput::Tokens(x)) => {
            let ModelConfig::Sequence(c) = config else {
                return Vec::new();
            };
            let name = format!("{}_1", c.cell.name().to_lowercase());
            vec![(name, LayerOutput::Units(m.recurrent_output(x)))]
        }
        _ => Vec::new(),
    }
}

impl Trainer {
    /// Asks for a health report of the next step (see [`Trainer::take_health`]).
    pub fn request_health(&mut self) {
        self.health_requested = true;
    }

    /// Whether each epoch's last step is probed too.
    pub fn set_health_per_epoch(&mut self, on: bool) {
        self.health_per_epoch = on;
    }

    /// Probes no more steps (a request not yet served included).
    pub fn stop_health(&mut self) {
        self.health_requested = false;
        self.health_per_epoch = false;
    }

    /// The reports of the steps probed since the last call, in order.
    pub fn take_health(&mut self) -> Vec<HealthReport> {
        std::mem::take(&mut self.health)
    }

    /// What a step must keep to be probed, when it is to be (`model` is still the step's,
    /// `range` its batch of this epoch's order).
    pub(super) fn probe(
        &self,
        model: &Model,
        grads: &GradientsParams,
        range: std::ops::Range<usize>,
    ) -> Option<Probe> {
        let epoch_end = self.batch + 1 == self.batches_per_epoch;
        if !(self.health_requested || (self.health_per_epoch && epoch_end)) {
            return None;
        }
        let mut collector = ParamCollector::new(Some(grads));
        model.visit(&mut collector);
        let end = range.end.min(range.start + PROBE_EXAMPLES);
        let batch = self.data.train.batch(
            &self.order[range.start..end],
            self.input,
            &self.device.clone().inner(),
        );
        Some(Probe {
            before: collector.params,
            input: batch.input,
            epoch_end,
        })
    }

    /// Reads a probed step once the optimizer has updated the model.
    pub(super) async fn read_probe(&mut self, probe: Probe) -> Result<(), TrainError> {
        self.health_requested = false;
        let model = self.model();
        let mut after = ParamCollector::new(None);
        model.visit(&mut after);
        let mut params = Vec::with_capacity(probe.before.len());
        for ((before, gradient), (after, _)) in probe.before.into_iter().zip(after.params) {
            params.push(reading(before, gradient, after).await?);
        }
        let mut activations = Vec::new();
        for (name, output) in layer_outputs(&model, &self.model_config, probe.input) {
            let (channels, spatial, values) = match output {
                LayerOutput::Maps(t) => {
                    let [_, c, h, w] = t.dims();
                    (c, h * w, read_f32s(t).await)
                }
                LayerOutput::Units(t) => (t.dims()[1], 1, read_f32s(t).await),
            };
            activations.push(ActivationReading {
                name,
                values: values.map_err(TrainError::Device)?,
                channels,
                spatial,
            });
        }
        let summary = self.model_config.summary()?;
        if self.health.len() >= PENDING_REPORTS {
            self.health.remove(0);
        }
        self.health.push(HealthReport {
            step: self.steps_done() + 1,
            epoch: self.epoch + 1,
            epoch_end: probe.epoch_end,
            layers: health_report(
                &summary,
                &params,
                &activations,
                &relu_layers(&self.model_config),
                self.config.optimizer.learning_rate,
            ),
        });
        Ok(())
    }
}
