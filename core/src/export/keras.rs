//! The Keras 3 script of a run: the model as a `keras.Sequential` with named layers, a loader
//! that puts the exported safetensors into them (transposing what Keras keeps differently),
//! and Kindling's initialisation, loss, L2 and optimizer for retraining.

use super::python::{self, InputLayout};
use super::pytorch::l2_weights;
use crate::model::{
    Activation, CnnConfig, CnnLayerConfig, FeatureShape, MlpConfig, ModelConfig, RecurrentKind,
    SequenceConfig, WeightInit,
};
use crate::train::{L2Mode, LossKind, OptimizerKind};
use crate::RunConfig;

/// The script's source; `files` are the weights' and the data's file names beside it.
pub fn script(config: &RunConfig, run_name: &str, file: &str, files: (&str, &str)) -> String {
    let mut out = python::header("Keras 3", file, "numpy keras jax safetensors", config);
    out.push_str(
        "\nos.environ.setdefault(\"KERAS_BACKEND\", \"jax\")  # any Keras 3 backend works\nimport keras  # noqa: E402\nfrom keras import layers, ops  # noqa: E402\n",
    );
    out.push_str(&python::files(run_name, files.0, files.1));
    out.push_str(&python::data_section(
        &config.dataset,
        InputLayout::of(config.model.input_kind(), true),
    ));
    let l2 = L2::of(config);
    out.push_str(&match &config.model {
        ModelConfig::Mlp(m) => mlp(m, &l2),
        ModelConfig::Cnn(c) => cnn(c, &l2),
        ModelConfig::Sequence(s) => sequence(s, &l2),
    });
    out.push_str(&training_section(config));
    out.push_str(&python::main_fn(
        "keras.utils.set_random_seed(SEED)",
        "build_model()",
        "        train(model, x_train, y_train, x_held, y_held)",
        "load_weights(model)",
        config.dataset.is_regression(),
    ));
    out
}

/// Each penalised weight's coefficient as a Keras `L2` regulariser argument.
struct L2 {
    weights: Vec<(String, f64)>,
}

impl L2 {
    fn of(config: &RunConfig) -> Self {
        let scale = match config.training.l2_mode {
            L2Mode::KerasLoss => 1.0,
            L2Mode::WeightDecay => 0.5,
        };
        Self {
            weights: l2_weights(&config.model)
                .into_iter()
                .map(|(n, c)| (n, c * scale))
                .collect(),
        }
    }

    /// `, kernel_regularizer=keras.regularizers.L2(c)` for the weight `name`, if penalised.
    fn argument(&self, name: &str) -> String {
        self.weights
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| {
                format!(
                    ", kernel_regularizer=keras.regularizers.L2({})",
                    python::float(*c)
                )
            })
            .unwrap_or_default()
    }
}

fn activation(activation: Activation) -> &'static str {
    match activation {
        Activation::Sigmoid => "\"sigmoid\"",
        Activation::Tanh => "\"tanh\"",
        Activation::Relu => "\"relu\"",
        Activation::LeakyRelu => "leaky_relu",
        Activation::Softmax => "\"softmax\"",
        Activation::Linear => "None",
    }
}

/// What `init` draws, in words a reader of the script knows.
pub(super) fn init_words(init: WeightInit) -> &'static str {
    match init {
        WeightInit::KerasNormal => "weights N(0, 0.05), zero biases (Keras 1's init='normal')",
        WeightInit::NielsenRandn => "weights and biases N(0, 1) (the homework's nn.py)",
        WeightInit::GlorotUniform => "Glorot-uniform weights, zero biases (Keras's default)",
        WeightInit::He => "He-normal weights (fan in, not truncated), zero biases",
    }
}

fn initializers(init: WeightInit) -> String {
    let (kernel, bias) = match init {
        WeightInit::KerasNormal => ("keras.initializers.RandomNormal(0.0, 0.05)", "\"zeros\""),
        WeightInit::NielsenRandn => (
            "keras.initializers.RandomNormal(0.0, 1.0)",
            "keras.initializers.RandomNormal(0.0, 1.0)",
        ),
        WeightInit::GlorotUniform => ("\"glorot_uniform\"", "\"zeros\""),
        WeightInit::He => (
            "keras.initializers.VarianceScaling(2.0, \"fan_in\", \"untruncated_normal\")",
            "\"zeros\"",
        ),
    };
    format!(
        r#"

# Kindling's initialisation for `--train`: {words}.
# Functions, so that every layer gets an initializer (and so draws) of its own: one unseeded
# Keras initializer instance returns the same values on every call.
def kernel_init():
    return {kernel}


def bias_init():
    return {bias}


def leaky_relu(x):
    return keras.activations.leaky_relu(x, negative_slope=0.01)
"#,
        words = init_words(init),
    )
}

fn dense(units: usize, act: Activation, name: &str, l2: &str) -> String {
    format!(
        "layers.Dense({units}, activation={}, kernel_initializer=kernel_init(), bias_initializer=bias_init(){l2}, name={}),",
        activation(act),
        python::string(name)
    )
}

/// A loader line putting a dense layer's exported weight ([out, in]) and bias into `layer`.
fn load_dense(layer: &str, prefix: &str) -> String {
    format!(
        "    model.get_layer({}).set_weights([w[{}].T, w[{}]])\n",
        python::string(layer),
        python::string(&format!("{prefix}.weight")),
        python::string(&format!("{prefix}.bias"))
    )
}

fn build_and_load(init: WeightInit, input: &str, layers: &str, loads: &str) -> String {
    format!(
        r#"{inits}

def build_model():
    """Kindling's model as Keras layers; the output layer gives logits (its activation is in
    the loss and in `predicted_classes`)."""
    return keras.Sequential([
        keras.Input(shape={input}),
{layers}    ])


def load_weights(model):
    """The exported weights into the model. Dense kernels are stored [out, in] (PyTorch's
    layout) and Keras keeps [in, out]; convolution kernels [out, in, h, w] become
    [h, w, in, out]."""
    w = load_arrays(WEIGHTS_FILE)
{loads}"#,
        inits = initializers(init),
    )
}

fn mlp(m: &MlpConfig, l2: &L2) -> String {
    let mut layers = String::new();
    let mut loads = String::new();
    for (i, layer) in m.hidden.iter().enumerate() {
        let name = format!("hidden_{i}");
        let prefix = format!("hidden.{i}.linear");
        layers.push_str(&format!(
            "        {}\n",
            dense(
                layer.units,
                layer.activation,
                &name,
                &l2.argument(&format!("{prefix}.weight"))
            )
        ));
        if layer.dropout > 0.0 {
            layers.push_str(&format!(
                "        layers.Dropout({}),\n",
                python::float(layer.dropout)
            ));
        }
        loads.push_str(&load_dense(&name, &prefix));
    }
    layers.push_str(&format!(
        "        {}\n",
        dense(
            m.outputs,
            Activation::Linear,
            "output",
            &l2.argument("output.weight")
        )
    ));
    loads.push_str(&load_dense("output", "output"));
    build_and_load(m.init, &format!("({},)", m.inputs), &layers, &loads)
}

fn cnn(c: &CnnConfig, l2: &L2) -> String {
    let shapes = c
        .shapes()
        .expect("an exported run's CNN was built, so its stack fits its input");
    let mut input = FeatureShape::Image(c.input);
    let mut layers = String::new();
    let mut loads = String::new();
    for (i, (layer, &output)) in c.layers.iter().zip(&shapes).enumerate() {
        let name = format!("layers_{i}");
        let line = match layer {
            CnnLayerConfig::Conv2d {
                filters,
                kernel,
                stride,
                padding,
                activation: act,
            } => {
                loads.push_str(&format!(
                    "    model.get_layer({}).set_weights([w[{}].transpose(2, 3, 1, 0), w[{}]])\n",
                    python::string(&name),
                    python::string(&format!("layers.{i}.conv.weight")),
                    python::string(&format!("layers.{i}.conv.bias"))
                ));
                format!(
                    "layers.Conv2D({filters}, {kernel}, strides={stride}, padding={}, activation={}, kernel_initializer=kernel_init(), bias_initializer=bias_init(), name={}),",
                    python::string(match padding {
                        crate::model::Padding::Valid => "valid",
                        crate::model::Padding::Same => "same",
                    }),
                    activation(*act),
                    python::string(&name)
                )
            }
            CnnLayerConfig::MaxPool2d { pool, stride } => {
                format!("layers.MaxPooling2D({pool}, strides={stride}),")
            }
            CnnLayerConfig::Dropout { rate } => format!("layers.Dropout({}),", python::float(*rate)),
            CnnLayerConfig::Flatten => match input {
                FeatureShape::Image(_) => "layers.Permute((3, 1, 2)),  # to Kindling's (channels, rows, columns) order\n        layers.Flatten(),".into(),
                FeatureShape::Flat(_) => "# Flatten: already flat".into(),
            },
            CnnLayerConfig::Dense {
                units,
                activation: act,
                ..
            } => {
                let prefix = format!("layers.{i}.linear");
                loads.push_str(&load_dense(&name, &prefix));
                dense(*units, *act, &name, &l2.argument(&format!("{prefix}.weight")))
            }
        };
        layers.push_str(&format!("        {line}\n"));
        input = output;
    }
    layers.push_str(&format!(
        "        {}\n",
        dense(
            c.outputs,
            Activation::Linear,
            "output",
            &l2.argument("output.weight")
        )
    ));
    loads.push_str(&load_dense("output", "output"));
    let [channels, height, width] = c.input;
    build_and_load(
        c.init,
        &format!("({height}, {width}, {channels})"),
        &layers,
        &loads,
    )
}

fn sequence(s: &SequenceConfig, l2: &L2) -> String {
    let cell = match s.cell {
        RecurrentKind::Lstm => format!("layers.LSTM({}, name=\"recurrent\"),", s.units),
        RecurrentKind::Gru => format!(
            "layers.GRU({}, reset_after=False, name=\"recurrent\"),  # Kindling's GRU resets before the matmul",
            s.units
        ),
    };
    let mut layers = format!(
        "        layers.Embedding({}, {}, name=\"embedding\"),\n",
        s.dict_size, s.embedding_len
    );
    if s.dropout > 0.0 {
        layers.push_str(&format!(
            "        layers.Dropout({}),\n",
            python::float(s.dropout)
        ));
    }
    layers.push_str(&format!("        {cell}\n"));
    layers.push_str(&format!(
        "        {}\n",
        dense(
            s.outputs,
            Activation::Linear,
            "output",
            &l2.argument("output.weight")
        )
    ));
    let loads = format!(
        "    model.get_layer(\"embedding\").set_weights([w[\"embedding.weight\"]])\n    # The recurrent layer is stored in Keras's own layout: kernel, recurrent_kernel, bias.\n    model.get_layer(\"recurrent\").set_weights(\n        [w[\"recurrent.kernel\"], w[\"recurrent.recurrent_kernel\"], w[\"recurrent.bias\"]]\n    )\n{}",
        load_dense("output", "output")
    );
    build_and_load(
        WeightInit::GlorotUniform,
        &format!("({},), dtype=\"int32\"", s.example_len),
        &layers,
        &loads,
    )
}

fn training_section(config: &RunConfig) -> String {
    let t = &config.training;
    let o = &t.optimizer;
    // With a decay, the rate is a schedule made in `train` (it needs the batches per epoch).
    let rate = if t.lr_decay.is_none() {
        "LEARNING_RATE"
    } else {
        "learning_rate"
    };
    let optimizer = match o.kind {
        OptimizerKind::Sgd => format!(
            "keras.optimizers.SGD(learning_rate={rate}, momentum={}, nesterov={})",
            python::float(o.momentum),
            if o.nesterov && o.momentum > 0.0 {
                "True"
            } else {
                "False"
            }
        ),
        OptimizerKind::Adam => format!(
            "keras.optimizers.Adam(learning_rate={rate}, beta_1={}, beta_2={}, epsilon={})",
            python::float(o.beta_1),
            python::float(o.beta_2),
            python::float(o.epsilon)
        ),
        OptimizerKind::RmsProp => format!(
            "keras.optimizers.RMSprop(learning_rate={rate}, rho={}, epsilon={})",
            python::float(o.rho),
            python::float(o.epsilon * o.epsilon)
        ),
    };
    let optimizer_note = match o.kind {
        OptimizerKind::Sgd => "",
        OptimizerKind::Adam => {
            "# Keras adds Adam's epsilon before the bias correction, Kindling and PyTorch after:\n    # the same update but in the first steps, where Keras's epsilon weighs a little more.\n    "
        }
        OptimizerKind::RmsProp => {
            "# Keras's RMSprop divides by sqrt(v + epsilon), Kindling and PyTorch by\n    # sqrt(v) + epsilon: epsilon squared keeps the denominator's floor where Kindling has it.\n    "
        }
    };
    let loss = match t.loss {
        LossKind::SoftmaxCrossEntropy => {
            "keras.losses.categorical_crossentropy(targets(labels, logits.shape[1]), logits, from_logits=True)"
        }
        LossKind::BinaryCrossEntropy => {
            "keras.losses.binary_crossentropy(targets(labels, logits.shape[1]), logits, from_logits=True)"
        }
        LossKind::Quadratic => {
            "0.5 * ops.sum((output_activation(logits) - targets(labels, logits.shape[1])) ** 2, axis=1)"
        }
        LossKind::MeanSquaredError => {
            "ops.mean((output_activation(logits) - targets(labels, logits.shape[1])) ** 2, axis=1)"
        }
    };
    let activation = config.model.output_activation();
    let (keras_activation, numpy_activation) = match activation {
        Activation::Sigmoid => ("ops.sigmoid(logits)", "1 / (1 + np.exp(-logits))"),
        Activation::Tanh => ("ops.tanh(logits)", "np.tanh(logits)"),
        Activation::Relu => ("ops.relu(logits)", "np.maximum(logits, 0)"),
        Activation::LeakyRelu => (
            "ops.leaky_relu(logits, negative_slope=0.01)",
            "np.where(logits > 0, logits, 0.01 * logits)",
        ),
        Activation::Softmax => (
            "ops.softmax(logits, axis=1)",
            "np.exp(logits - logits.max(axis=1, keepdims=True)) / np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)",
        ),
        Activation::Linear => ("logits", "logits"),
    };
    format!(
        r#"

EPOCHS = {epochs}
BATCH_SIZE = {batch}
LEARNING_RATE = {lr}
{decay_constant}SEED = {seed}


def output_activation(logits):
    return {keras_activation}


def targets(labels, outputs):
    """The label itself with one output, else one-hot."""
    labels = ops.reshape(labels, (-1,))
    if outputs == 1:
        return ops.cast(ops.reshape(labels, (-1, 1)), "float32")
    return ops.one_hot(ops.cast(labels, "int32"), outputs)


def loss_of(labels, logits):
    """{loss_name} (the layers' L2 penalties are added by Keras)."""
    return {loss}


def predicted_classes(logits):
    """The predicted classes ({rule})."""
    {prediction}


{evaluate}


def train(model, x_train, y_train, x_held, y_held):
    """Kindling's loop: EPOCHS passes over the training set, shuffled every epoch, in batches
    of BATCH_SIZE, one optimizer step per batch. (Its shuffling and dropout draws are Keras's,
    not Kindling's: the curve differs in its noise only.)"""
{schedule}    {optimizer_note}model.compile(optimizer={optimizer}, loss=loss_of)
    report = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(
        f"epoch {{epoch + 1}}/{{EPOCHS}}: loss {{logs['loss']:.4f}}, "
        f"{held_out}"))
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=True,
              verbose=0, callbacks=[report])
"#,
        epochs = t.epochs,
        batch = t.batch_size,
        lr = python::float(o.learning_rate),
        decay_constant = python::decay_constant(t.lr_decay),
        schedule = if t.lr_decay.is_none() {
            ""
        } else {
            "    # The rate times LR_DECAY after every epoch (an epoch's batches).\n    \
             learning_rate = keras.optimizers.schedules.ExponentialDecay(\n        \
             LEARNING_RATE, decay_steps=-(-len(x_train) // BATCH_SIZE), decay_rate=LR_DECAY,\n        \
             staircase=True)\n"
        },
        seed = t.seed,
        loss_name = t.loss.name(),
        rule = python::accuracy_rule(config.model.outputs()),
        prediction = if config.model.outputs() == 1 {
            format!("return ({numpy_activation})[:, 0] > 0.5")
        } else {
            "return logits.argmax(axis=1)".to_string()
        },
        evaluate = if config.dataset.is_regression() {
            python::r2_fn(
                "",
                "np.asarray(model.predict(x, batch_size=batch_size, verbose=0))",
                numpy_activation,
                t.eval_batch_size.max(1),
            )
        } else {
            format!(
                r#"def evaluate(model, x, y, batch_size={eval_batch}):
    """The fraction of examples predicted right."""
    logits = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    return float((predicted_classes(logits) == y).mean())"#,
                eval_batch = t.eval_batch_size.max(1)
            )
        },
        held_out = python::held_out_figure(config.dataset.is_regression()),
    )
}
