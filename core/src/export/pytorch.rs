//! The PyTorch script of a run: the model as `nn.Module`s whose parameter names are the
//! exported safetensors' keys, so `model.load_state_dict(load_file(...))` loads them as they
//! are; Kindling's initialisation, loss, L2 and optimizer for retraining.

use super::python::{self, InputLayout};
use crate::model::cnn::same_padding;
use crate::model::{
    Activation, CnnConfig, CnnLayerConfig, FeatureShape, MlpConfig, ModelConfig, Padding,
    RecurrentKind, SequenceConfig, WeightInit,
};
use crate::train::{LossKind, OptimizerKind};
use crate::RunConfig;

/// The script's source; `files` are the weights' and the data's file names beside it.
pub fn script(config: &RunConfig, run_name: &str, file: &str, files: (&str, &str)) -> String {
    let mut out = python::header("PyTorch", file, "numpy torch safetensors", config);
    out.push_str(
        "import torch\nfrom torch import nn\nfrom torch.nn import functional as F\nfrom safetensors.torch import load_file as load_tensors\n",
    );
    out.push_str(&python::files(run_name, files.0, files.1));
    out.push_str(&python::data_section(
        &config.dataset,
        InputLayout::of(config.model.input_kind(), false),
    ));
    out.push_str(&model_section(&config.model));
    out.push_str(&training_section(config));
    out.push_str(&python::main_fn(
        "torch.manual_seed(SEED)",
        "Model()",
        "        initialize(model)\n        train(model, x_train, y_train, x_held, y_held)",
        "model.load_state_dict(load_tensors(WEIGHTS_FILE))",
        config.dataset.is_regression(),
    ));
    out
}

/// The module of an activation, as a layer.
fn module(activation: Activation) -> &'static str {
    match activation {
        Activation::Sigmoid => "nn.Sigmoid()",
        Activation::Tanh => "nn.Tanh()",
        Activation::Relu => "nn.ReLU()",
        Activation::LeakyRelu => "nn.LeakyReLU(0.01)",
        Activation::Softmax => "nn.Softmax(dim=-1)",
        Activation::Linear => "nn.Identity()",
    }
}

/// Python source of the weight initialiser of `init` on a weight tensor `w`.
fn init_weight(init: WeightInit) -> &'static str {
    match init {
        WeightInit::KerasNormal => "nn.init.normal_(w, 0.0, 0.05)",
        WeightInit::NielsenRandn => "nn.init.normal_(w, 0.0, 1.0)",
        WeightInit::GlorotUniform => "nn.init.xavier_uniform_(w)",
        WeightInit::He => "nn.init.kaiming_normal_(w, nonlinearity=\"relu\")",
    }
}

fn init_bias(init: WeightInit) -> &'static str {
    match init {
        WeightInit::NielsenRandn => "nn.init.normal_(b, 0.0, 1.0)",
        _ => "nn.init.zeros_(b)",
    }
}

fn model_section(model: &ModelConfig) -> String {
    match model {
        ModelConfig::Mlp(m) => mlp(m),
        ModelConfig::Cnn(c) => cnn(c),
        ModelConfig::Sequence(s) => sequence(s),
    }
}

fn initialize_fn(init: WeightInit, extra: &str) -> String {
    format!(
        r#"

def initialize(model):
    """Fresh weights as Kindling draws them for `--train`: {words}."""
    for layer in model.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            w, b = layer.weight, layer.bias
            {weight}
            {bias}
{extra}"#,
        weight = init_weight(init),
        bias = init_bias(init),
        words = super::keras::init_words(init),
    )
}

fn mlp(m: &MlpConfig) -> String {
    let mut inputs = m.inputs;
    let mut layers = String::new();
    for layer in &m.hidden {
        layers.push_str(&format!(
            "            Hidden({inputs}, {}, {}, {}),\n",
            layer.units,
            module(layer.activation),
            python::float(layer.dropout)
        ));
        inputs = layer.units;
    }
    format!(
        r#"

class Hidden(nn.Module):
    """A hidden layer: affine map, activation, dropout (while training)."""

    def __init__(self, inputs, units, activation, dropout):
        super().__init__()
        self.linear = nn.Linear(inputs, units)
        self.activation = activation
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.activation(self.linear(x)))


class Model(nn.Module):
    """Kindling's MLP; forward gives the output layer's logits ([n, {inputs_total}] -> [n, {outputs}])."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.ModuleList([
{layers}        ])
        self.output = nn.Linear({inputs}, {outputs})

    def forward(self, x):
        for layer in self.hidden:
            x = layer(x)
        return self.output(x)
{init}"#,
        inputs_total = m.inputs,
        outputs = m.outputs,
        init = initialize_fn(m.init, ""),
    )
}

fn cnn(c: &CnnConfig) -> String {
    let shapes = c
        .shapes()
        .expect("an exported run's CNN was built, so its stack fits its input");
    let mut input = FeatureShape::Image(c.input);
    let mut layers = String::new();
    for (layer, &output) in c.layers.iter().zip(&shapes) {
        let line = match (layer, input) {
            (
                CnnLayerConfig::Conv2d {
                    filters,
                    kernel,
                    stride,
                    padding,
                    activation,
                },
                FeatureShape::Image([channels, h, w]),
            ) => {
                let (top, bottom, left, right) = match padding {
                    Padding::Valid => (0, 0, 0, 0),
                    Padding::Same => {
                        let (t, b) = same_padding(h, *kernel, *stride);
                        let (l, r) = same_padding(w, *kernel, *stride);
                        (t, b, l, r)
                    }
                };
                format!(
                    "Conv({channels}, {filters}, {kernel}, {stride}, ({left}, {right}, {top}, {bottom}), {}),",
                    module(*activation)
                )
            }
            (CnnLayerConfig::MaxPool2d { pool, stride }, _) => {
                format!("nn.MaxPool2d({pool}, stride={stride}),")
            }
            (CnnLayerConfig::Dropout { rate }, _) => {
                format!("nn.Dropout({}),", python::float(*rate))
            }
            (CnnLayerConfig::Flatten, _) => "nn.Flatten(),  # channel, row, column order".into(),
            (
                CnnLayerConfig::Dense {
                    units, activation, ..
                },
                shape,
            ) => format!("Dense({}, {units}, {}),", shape.size(), module(*activation)),
            _ => "# (this layer does not fit its input)".into(),
        };
        layers.push_str(&format!("            {line}\n"));
        input = output;
    }
    let [channels, height, width] = c.input;
    format!(
        r#"

class Conv(nn.Module):
    """A convolution and its activation; Kindling's "same" padding is TensorFlow's (the odd
    pixel after), written out as (left, right, top, bottom)."""

    def __init__(self, channels, filters, kernel, stride, padding, activation):
        super().__init__()
        self.pad = nn.ZeroPad2d(padding)
        self.conv = nn.Conv2d(channels, filters, kernel, stride=stride)
        self.activation = activation

    def forward(self, x):
        return self.activation(self.conv(self.pad(x)))


class Dense(nn.Module):
    """A hidden dense layer and its activation."""

    def __init__(self, inputs, units, activation):
        super().__init__()
        self.linear = nn.Linear(inputs, units)
        self.activation = activation

    def forward(self, x):
        return self.activation(self.linear(x))


class Model(nn.Module):
    """Kindling's CNN; forward gives the output layer's logits ([n, {channels}, {height}, {width}] -> [n, {outputs}])."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([
{layers}        ])
        self.output = nn.Linear({last}, {outputs})

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.output(x.flatten(1))
{init}"#,
        outputs = c.outputs,
        last = input.size(),
        init = initialize_fn(c.init, ""),
    )
}

fn sequence(s: &SequenceConfig) -> String {
    let (gates, cell) = match s.cell {
        RecurrentKind::Lstm => (
            4,
            r#"        c = h
        for t in range(x.shape[1]):
            z = projected[:, t] + h @ self.recurrent_kernel
            i, f, candidate, o = z.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(candidate)
            h = torch.sigmoid(o) * torch.tanh(c)
        return h"#,
        ),
        RecurrentKind::Gru => (
            3,
            r#"        u = self.units
        for t in range(x.shape[1]):
            xz, xr, xh = projected[:, t].chunk(3, dim=1)
            z = torch.sigmoid(xz + h @ self.recurrent_kernel[:, :u])
            r = torch.sigmoid(xr + h @ self.recurrent_kernel[:, u:2 * u])
            candidate = torch.tanh(xh + (r * h) @ self.recurrent_kernel[:, 2 * u:])
            h = z * h + (1 - z) * candidate
        return h"#,
        ),
    };
    let (doc, forget) = match s.cell {
        RecurrentKind::Lstm => (
            "Keras's LSTM in Kindling's layout: kernel [inputs, 4u], recurrent_kernel [u, 4u],\n    one bias [4u]; gates i, f, c, o. (PyTorch's nn.LSTM keeps [4u, inputs] and two biases.)",
            "        layer.bias[layer.units:2 * layer.units] = 1.0  # Keras's unit_forget_bias\n",
        ),
        RecurrentKind::Gru => (
            "Keras's GRU with reset_after=False, in Kindling's layout: kernel [inputs, 3u],\n    recurrent_kernel [u, 3u], one bias [3u]; gates z, r, h, the reset gate applied to the\n    state before its matmul. (PyTorch's nn.GRU applies it after, so it is written out here.)",
            "",
        ),
    };
    let extra = format!(
        r#"    with torch.no_grad():
        nn.init.uniform_(model.embedding.weight, -0.05, 0.05)
        layer = model.recurrent
        nn.init.xavier_uniform_(layer.kernel)
        nn.init.orthogonal_(layer.recurrent_kernel)
        nn.init.zeros_(layer.bias)
{forget}"#
    );
    format!(
        r#"

class Recurrent(nn.Module):
    """{doc}
    Returns the last hidden state."""

    def __init__(self, inputs, units):
        super().__init__()
        self.units = units
        self.kernel = nn.Parameter(torch.empty(inputs, {gates} * units))
        self.recurrent_kernel = nn.Parameter(torch.empty(units, {gates} * units))
        self.bias = nn.Parameter(torch.zeros({gates} * units))

    def forward(self, x):
        """[n, time, inputs] -> [n, units]"""
        projected = x @ self.kernel + self.bias
        h = x.new_zeros(x.shape[0], self.units)
{cell}


class Model(nn.Module):
    """Kindling's sequence classifier; forward gives the output layer's logits
    ([n, {len}] token ids -> [n, {outputs}])."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding({dict}, {embedding})
        self.dropout = nn.Dropout({dropout})
        self.recurrent = Recurrent({embedding}, {units})
        self.output = nn.Linear({units}, {outputs})

    def forward(self, tokens):
        return self.output(self.recurrent(self.dropout(self.embedding(tokens))))
{init}"#,
        len = s.example_len,
        outputs = s.outputs,
        dict = s.dict_size,
        embedding = s.embedding_len,
        dropout = python::float(s.dropout),
        units = s.units,
        init = initialize_fn(WeightInit::GlorotUniform, &extra),
    )
}

/// The names of the weights that carry an L2 penalty, with their coefficients.
pub(super) fn l2_weights(model: &ModelConfig) -> Vec<(String, f64)> {
    let mut named = Vec::new();
    match model {
        ModelConfig::Mlp(m) => {
            for (i, layer) in m.hidden.iter().enumerate() {
                named.push((format!("hidden.{i}.linear.weight"), layer.l2));
            }
            named.push(("output.weight".into(), m.output_l2));
        }
        ModelConfig::Cnn(c) => {
            for (i, layer) in c.layers.iter().enumerate() {
                if let CnnLayerConfig::Dense { l2, .. } = layer {
                    named.push((format!("layers.{i}.linear.weight"), *l2));
                }
            }
            named.push(("output.weight".into(), c.output_l2));
        }
        ModelConfig::Sequence(s) => named.push(("output.weight".into(), s.output_l2)),
    }
    named.retain(|(_, c)| *c > 0.0);
    named
}

fn training_section(config: &RunConfig) -> String {
    let t = &config.training;
    let o = &t.optimizer;
    let optimizer =
        match o.kind {
            OptimizerKind::Sgd => {
                format!(
            "torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum={}, nesterov={})",
            python::float(o.momentum),
            if o.nesterov && o.momentum > 0.0 { "True" } else { "False" }
        )
            }
            OptimizerKind::Adam => format!(
                "torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=({}, {}), eps={})",
                python::float(o.beta_1),
                python::float(o.beta_2),
                python::float(o.epsilon)
            ),
            OptimizerKind::RmsProp => format!(
                "torch.optim.RMSprop(model.parameters(), lr=LEARNING_RATE, alpha={}, eps={})",
                python::float(o.rho),
                python::float(o.epsilon)
            ),
        };
    let outputs = config.model.outputs();
    let activation = config.model.output_activation();
    let loss = match t.loss {
        LossKind::SoftmaxCrossEntropy => "F.cross_entropy(logits, labels)".to_string(),
        LossKind::BinaryCrossEntropy => {
            "F.binary_cross_entropy_with_logits(logits, targets(labels, logits.shape[1]))".into()
        }
        LossKind::Quadratic => {
            "0.5 * ((output_activation(logits) - targets(labels, logits.shape[1])) ** 2).sum(dim=1).mean()".into()
        }
        LossKind::MeanSquaredError => {
            "((output_activation(logits) - targets(labels, logits.shape[1])) ** 2).mean()".into()
        }
    };
    let l2 = l2_weights(&config.model);
    let l2_scale = match t.l2_mode {
        crate::train::L2Mode::KerasLoss => 1.0,
        crate::train::L2Mode::WeightDecay => 0.5,
    };
    let l2_list = l2
        .iter()
        .map(|(name, c)| {
            format!(
                "({}, {})",
                python::string(name),
                python::float(c * l2_scale)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"

EPOCHS = {epochs}
BATCH_SIZE = {batch}
LEARNING_RATE = {lr}
{decay_constant}SEED = {seed}
# Weights with an L2 penalty, and the coefficient c of c * sum(w ** 2) in the loss ({l2_words}).
L2 = [{l2_list}]


def output_activation(logits):
    return {activation_fn}


def targets(labels, outputs):
    """The label itself with one output, else one-hot."""
    if outputs == 1:
        return labels.float()[:, None]
    return F.one_hot(labels, outputs).float()


def loss_of(model, logits, labels):
    """{loss_name}, plus the L2 penalties."""
    loss = {loss}
    weights = dict(model.named_parameters())
    for name, coefficient in L2:
        loss = loss + coefficient * (weights[name] ** 2).sum()
    return loss


def predicted_classes(logits):
    """The predicted classes ({rule})."""
    {prediction}


@torch.no_grad()
{evaluate}


def train(model, x_train, y_train, x_held, y_held):
    """Kindling's loop: EPOCHS passes over the training set, shuffled every epoch, in batches
    of BATCH_SIZE (the last one smaller), one optimizer step per batch. (Its shuffling and
    dropout draws are PyTorch's, not Kindling's: the curve differs in its noise only.)"""
    optimizer = {optimizer}
{schedule_make}    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            loss = loss_of(model, model(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)  # the epoch's loss is the mean over examples
{schedule_step}        print(f"epoch {{epoch}}/{{EPOCHS}}: loss {{total / len(order):.4f}}, {held_out}")
"#,
        epochs = t.epochs,
        batch = t.batch_size,
        lr = python::float(o.learning_rate),
        decay_constant = python::decay_constant(t.lr_decay),
        schedule_make = if t.lr_decay.is_none() {
            ""
        } else {
            "    # The rate times LR_DECAY after every epoch.\n    \
             scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=LR_DECAY)\n"
        },
        schedule_step = if t.lr_decay.is_none() {
            ""
        } else {
            "        scheduler.step()\n"
        },
        seed = t.seed,
        l2_words = match t.l2_mode {
            crate::train::L2Mode::KerasLoss => "Keras's kernel_regularizer=l2(c)",
            crate::train::L2Mode::WeightDecay => {
                "the homework's weight decay lambda: c = lambda / 2, so the gradient gains lambda * w"
            }
        },
        activation_fn = activation_fn(activation),
        loss_name = t.loss.name(),
        rule = python::accuracy_rule(outputs),
        prediction = if outputs == 1 {
            "return (output_activation(logits)[:, 0] > 0.5).long()"
        } else {
            "return logits.argmax(dim=1)"
        },
        evaluate = if config.dataset.is_regression() {
            // Evaluation mode first (no dropout), then the outputs batch by batch.
            python::r2_fn(
                "    model.eval()\n",
                "torch.cat([model(torch.from_numpy(x[s:s + batch_size])) for s in range(0, len(x), batch_size)]).numpy()",
                numpy_activation(activation),
                t.eval_batch_size.max(1),
            )
        } else {
            format!(
                r#"def evaluate(model, x, y, batch_size={eval_batch}):
    """The fraction of examples predicted right."""
    model.eval()
    correct = 0
    for start in range(0, len(x), batch_size):
        logits = model(torch.from_numpy(x[start:start + batch_size]))
        correct += (predicted_classes(logits) == torch.from_numpy(y[start:start + batch_size])).sum().item()
    return correct / len(x)"#,
                eval_batch = t.eval_batch_size.max(1)
            )
        },
        held_out = python::held_out_figure(config.dataset.is_regression()),
    )
}

/// The output activation as numpy code of `logits` (for R² on a regression set).
fn numpy_activation(activation: Activation) -> &'static str {
    match activation {
        Activation::Sigmoid => "1 / (1 + np.exp(-logits))",
        Activation::Tanh => "np.tanh(logits)",
        Activation::Relu => "np.maximum(logits, 0)",
        Activation::LeakyRelu => "np.where(logits > 0, logits, 0.01 * logits)",
        Activation::Softmax => "np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)",
        Activation::Linear => "logits",
    }
}

fn activation_fn(activation: Activation) -> &'static str {
    match activation {
        Activation::Sigmoid => "torch.sigmoid(logits)",
        Activation::Tanh => "torch.tanh(logits)",
        Activation::Relu => "torch.relu(logits)",
        Activation::LeakyRelu => "F.leaky_relu(logits, 0.01)",
        Activation::Softmax => "torch.softmax(logits, dim=1)",
        Activation::Linear => "logits",
    }
}
