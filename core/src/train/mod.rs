//! Training: losses, optimizers, metrics and the step-wise [`Trainer`].

pub mod adam_ops;
pub mod compute_pool;
#[cfg(not(target_family = "wasm"))]
mod data_parallel;
pub mod device_speed;
pub mod loss;
pub mod lr_decay;
pub mod metrics;
pub mod optimizer;
pub mod score;
pub mod steering;
pub mod thread_trial;
#[cfg(not(target_family = "wasm"))]
pub mod throughput;
pub mod trainer;
pub mod training_run;

pub use compute_pool::{ComputePool, SharedPool};
pub use device_speed::{
    measure_speed, measurement_data, speed_key, threads_label, DeviceSpeed, DeviceSpeeds,
};
pub use loss::{l2_penalty, L2Mode, LossKind};
pub use lr_decay::LrDecay;
pub use metrics::{BatchPoint, EpochMetrics, EvalMetrics, StopReason, TrainingHistory};
pub use optimizer::{OptimizerConfig, OptimizerKind};
pub use steering::{LiveSettings, Steer, Steering, SteeringCursor, MAX_STEERS};
pub use thread_trial::ThreadTrial;
pub use trainer::{Progress, StepOutcome, TrainError, Trainer, TrainerState, TrainingConfig};
pub use training_run::{
    argmax, confusion_matrix, shown_confusion, ShownConfusion, TrainingRun, MAX_MATRIX_CLASSES,
};
