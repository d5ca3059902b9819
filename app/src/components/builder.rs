//! The builder: presets, dataset and its options, the model editor, training settings, and the
//! live Keras-like summary with parameter count, memory estimate and inline problems.

use kindling_core::data::upload::{UploadedData, UploadedInput};
use kindling_core::model::summary::human_bytes;
use kindling_core::model::{
    Activation, CnnLayerConfig, DenseLayerConfig, ModelConfig, Padding, WeightInit,
};
use kindling_core::run::PRESETS;
use kindling_core::train::{L2Mode, LossKind, OptimizerKind};
use kindling_core::{DatasetConfig, Engine, RunConfig};
use leptos::prelude::*;

use super::fields::{cell_number, cell_select, file_button, number_field, select_field};
use crate::builder::{
    activations, dataset_id, enum_name, kind_fits, model_kind, parse_enum, switch_dataset,
    switch_model_kind, DATASETS, MODEL_KINDS, UPLOAD_ID,
};
use crate::page::use_session;

fn named<T: serde::Serialize>(values: &[T], label: impl Fn(&T) -> String) -> Vec<(String, String)> {
    values.iter().map(|v| (enum_name(v), label(v))).collect()
}

fn activation_options() -> Vec<(String, String)> {
    activations()
        .into_iter()
        .map(|(n, a)| (n, format!("{a:?}").to_lowercase()))
        .collect()
}

/// Presets and dataset.
#[component]
fn DataSection() -> impl IntoView {
    let s = use_session();
    let description = move || {
        let p = s.preset.get();
        PRESETS
            .iter()
            .find(|(n, _)| *n == p)
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| "Your own settings.".into())
    };
    view! {
        <div class="group">
            <label class="field wide">
                <span>"Preset"</span>
                <select
                    data-testid="preset"
                    on:change=move |ev| {
                        let name = event_target_value(&ev);
                        if let Some(config) = RunConfig::preset(&name) {
                            s.config.set(config);
                            s.preset.set(name);
                            s.error.set(None);
                        }
                    }
                >
                    <option value="" selected=move || s.preset.get().is_empty()>
                        "(custom)"
                    </option>
                    {PRESETS
                        .iter()
                        .map(|(name, _)| {
                            let n = name.to_string();
                            view! {
                                <option value=*name selected=move || s.preset.get() == n>
                                    {*name}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <p class="hint">{description}</p>
            <label class="field wide">
                <span>"Dataset"</span>
                <select
                    data-testid="dataset"
                    on:change=move |ev| {
                        let id = event_target_value(&ev);
                        s.preset.set(String::new());
                        s.config.update(|c| switch_dataset(c, &id));
                    }
                >
                    {DATASETS
                        .iter()
                        .map(|(id, label)| {
                            let i = id.to_string();
                            view! {
                                <option
                                    value=*id
                                    selected=move || s.config.with(|c| dataset_id(&c.dataset) == i)
                                >
                                    {*label}
                                </option>
                            }
                        })
                        .collect_view()}
                    {move || s.config.with(|c| match &c.dataset {
                        DatasetConfig::Uploaded(u) => Some(view! {
                            <option value=UPLOAD_ID selected=true>{format!("Your data: {}", u.file)}</option>
                        }),
                        _ => None,
                    })}
                </select>
            </label>
            <UploadData />
            {move || {
                let family = s.config.with(|c| match &c.dataset {
                    DatasetConfig::Toy(_) => 0,
                    DatasetConfig::Imdb(_) => 2,
                    DatasetConfig::Uploaded(_) => 3,
                    _ => 1,
                });
                match family {
                    0 => toy_fields().into_any(),
                    1 => image_fields().into_any(),
                    2 => imdb_fields().into_any(),
                    _ => upload_fields().into_any(),
                }
            }}
        </div>
    }
}

fn toy_fields() -> impl IntoView {
    fn toy(c: &RunConfig) -> Option<&kindling_core::data::ToyConfig> {
        match &c.dataset {
            DatasetConfig::Toy(t) => Some(t),
            _ => None,
        }
    }
    fn toy_mut(c: &mut RunConfig) -> Option<&mut kindling_core::data::ToyConfig> {
        match &mut c.dataset {
            DatasetConfig::Toy(t) => Some(t),
            _ => None,
        }
    }
    view! {
        <div class="row">
            {number_field(
                "Points",
                "toy-size",
                "100",
                |c| toy(c).map_or(0.0, |t| t.size as f64),
                |c, v| if let Some(t) = toy_mut(c) { t.size = v as usize },
            )}
            {number_field(
                "Noise",
                "toy-noise",
                "0.05",
                |c| toy(c).map_or(0.0, |t| t.noise),
                |c, v| if let Some(t) = toy_mut(c) { t.noise = v },
            )}
            {number_field(
                "Test fraction",
                "toy-test-fraction",
                "0.05",
                |c| toy(c).map_or(0.0, |t| t.test_fraction),
                |c, v| if let Some(t) = toy_mut(c) { t.test_fraction = v },
            )}
            {number_field(
                "Data seed",
                "toy-seed",
                "1",
                |c| toy(c).map_or(0.0, |t| t.seed as f64),
                |c, v| if let Some(t) = toy_mut(c) { t.seed = v as u64 },
            )}
        </div>
    }
}

/// The file button that loads the user's own data.
#[component]
fn UploadData() -> impl IntoView {
    let s = use_session();
    view! {
        <div class="upload-row">
            {file_button(
                "Upload data…",
                "A CSV file (numeric feature columns, the label in the last column, a header row), or an MNIST-style idx images file with its labels file (raw or .gz)",
                ".csv,.txt,.idx,.gz,.ubyte,.idx1,.idx3",
                true,
                "upload-data",
                move |files| s.upload_data(files),
            )}
            <span class="hint">"CSV (features…, label) or idx images + labels"</span>
        </div>
    }
}

fn upload_fields() -> impl IntoView {
    fn upload(c: &RunConfig) -> Option<&UploadedData> {
        match &c.dataset {
            DatasetConfig::Uploaded(u) => Some(u),
            _ => None,
        }
    }
    fn upload_mut(c: &mut RunConfig) -> Option<&mut UploadedData> {
        match &mut c.dataset {
            DatasetConfig::Uploaded(u) => Some(u),
            _ => None,
        }
    }
    let s = use_session();
    let description = move || {
        s.config.with(|c| {
            upload(c).map(|u| {
                let what = match u.input {
                    UploadedInput::Features(n) => format!("{n} features"),
                    UploadedInput::Image([h, w]) => format!("{h}x{w} images"),
                };
                format!(
                    "{} examples of {what}, {} classes ({}); {} train, {} test",
                    u.examples,
                    u.classes(),
                    u.class_names.join(", "),
                    u.train_size(),
                    u.test_size()
                )
            })
        })
    };
    view! {
        <p class="hint" data-testid="upload-summary">{description}</p>
        <div class="row">
            {number_field(
                "Test fraction",
                "upload-test-fraction",
                "0.05",
                |c| upload(c).map_or(0.0, |u| u.test_fraction),
                |c, v| if let Some(u) = upload_mut(c) { u.test_fraction = v },
            )}
            {number_field(
                "Split seed",
                "upload-seed",
                "1",
                |c| upload(c).map_or(0.0, |u| u.seed as f64),
                |c, v| if let Some(u) = upload_mut(c) { u.seed = v as u64 },
            )}
        </div>
    }
}

fn image_fields() -> impl IntoView {
    fn subset(c: &RunConfig) -> Option<&kindling_core::run::ImageSubset> {
        match &c.dataset {
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => Some(s),
            _ => None,
        }
    }
    fn subset_mut(c: &mut RunConfig) -> Option<&mut kindling_core::run::ImageSubset> {
        match &mut c.dataset {
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => Some(s),
            _ => None,
        }
    }
    view! {
        <div class="row">
            {number_field(
                "Train examples",
                "train-size",
                "1000",
                |c| subset(c).map_or(0.0, |s| s.train_size as f64),
                |c, v| if let Some(s) = subset_mut(c) { s.train_size = v as usize },
            )}
            {number_field(
                "Test examples",
                "test-size",
                "1000",
                |c| subset(c).map_or(0.0, |s| s.test_size as f64),
                |c, v| if let Some(s) = subset_mut(c) { s.test_size = v as usize },
            )}
            {number_field(
                "Validation",
                "validation-size",
                "1000",
                |c| subset(c).map_or(0.0, |s| s.validation_size as f64),
                |c, v| if let Some(s) = subset_mut(c) { s.validation_size = v as usize },
            )}
            {number_field(
                "Subset seed",
                "subset-seed",
                "1",
                |c| subset(c).map_or(0.0, |s| s.seed as f64),
                |c, v| if let Some(s) = subset_mut(c) { s.seed = v as u64 },
            )}
        </div>
    }
}

fn imdb_fields() -> impl IntoView {
    fn subset(c: &RunConfig) -> Option<&kindling_core::run::ImdbSubset> {
        match &c.dataset {
            DatasetConfig::Imdb(s) => Some(s),
            _ => None,
        }
    }
    fn with_both(
        c: &mut RunConfig,
        f: impl Fn(
            &mut kindling_core::run::ImdbSubset,
            Option<&mut kindling_core::model::SequenceConfig>,
        ),
    ) {
        if let DatasetConfig::Imdb(d) = &mut c.dataset {
            let model = match &mut c.model {
                ModelConfig::Sequence(m) => Some(m),
                _ => None,
            };
            f(d, model);
        }
    }
    view! {
        <div class="row">
            {number_field(
                "Dictionary size",
                "dict-size",
                "1000",
                |c| subset(c).map_or(0.0, |s| s.dict_size as f64),
                |c, v| with_both(c, |d, m| {
                    d.dict_size = v as usize;
                    if let Some(m) = m { m.dict_size = v as usize }
                }),
            )}
            {number_field(
                "Example length",
                "example-len",
                "50",
                |c| subset(c).map_or(0.0, |s| s.example_len as f64),
                |c, v| with_both(c, |d, m| {
                    d.example_len = v as usize;
                    if let Some(m) = m { m.example_len = v as usize }
                }),
            )}
            {number_field(
                "Train reviews",
                "train-size",
                "1000",
                |c| subset(c).map_or(0.0, |s| s.train_size as f64),
                |c, v| with_both(c, |d, _| d.train_size = v as usize),
            )}
            {number_field(
                "Test reviews",
                "test-size",
                "1000",
                |c| subset(c).map_or(0.0, |s| s.test_size as f64),
                |c, v| with_both(c, |d, _| d.test_size = v as usize),
            )}
            {number_field(
                "Validation",
                "validation-size",
                "500",
                |c| subset(c).map_or(0.0, |s| s.validation_size as f64),
                |c, v| with_both(c, |d, _| d.validation_size = v as usize),
            )}
        </div>
    }
}

/// The model editor for the current kind.
#[component]
fn ModelSection() -> impl IntoView {
    let s = use_session();
    view! {
        <div class="group">
            <h3>"Model"</h3>
            <label class="field wide">
                <span>"Kind"</span>
                <select
                    data-testid="model-kind"
                    on:change=move |ev| {
                        let kind = event_target_value(&ev);
                        s.preset.set(String::new());
                        s.config.update(|c| switch_model_kind(c, &kind));
                    }
                >
                    {move || {
                        let (dataset, current) = s
                            .config
                            .with(|c| (c.dataset.clone(), model_kind(&c.model)));
                        MODEL_KINDS
                            .iter()
                            .filter(|(id, _)| kind_fits(id, &dataset))
                            .map(|(id, label)| {
                                view! {
                                    <option value=*id selected=*id == current>
                                        {*label}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            {move || match s.config.with(|c| model_kind(&c.model)) {
                "mlp" => mlp_editor().into_any(),
                "cnn" => cnn_editor().into_any(),
                _ => sequence_editor().into_any(),
            }}
        </div>
    }
}

fn mlp_editor() -> impl IntoView {
    let s = use_session();
    fn layers_mut(c: &mut RunConfig) -> Option<&mut Vec<DenseLayerConfig>> {
        match &mut c.model {
            ModelConfig::Mlp(m) => Some(&mut m.hidden),
            _ => None,
        }
    }
    let rows = move || {
        let layers = s.config.with(|c| match &c.model {
            ModelConfig::Mlp(m) => m.hidden.clone(),
            _ => Vec::new(),
        });
        let count = layers.len();
        layers
            .into_iter()
            .enumerate()
            .map(|(i, layer)| {
                view! {
                    <tr data-testid=format!("layer-{i}")>
                        <td>{format!("Dense {}", i + 1)}</td>
                        <td>
                            {cell_number(
                                layer.units as f64,
                                "units",
                                "1",
                                move |c, v| if let Some(l) = layers_mut(c).and_then(|l| l.get_mut(i)) {
                                    l.units = v as usize
                                },
                            )}
                        </td>
                        <td>
                            {cell_select(
                                enum_name(&layer.activation),
                                "activation",
                                activation_options(),
                                move |c, v| if let (Some(l), Some(a)) = (
                                    layers_mut(c).and_then(|l| l.get_mut(i)),
                                    parse_enum::<Activation>(v),
                                ) {
                                    l.activation = a
                                },
                            )}
                        </td>
                        <td>
                            {cell_number(
                                layer.dropout,
                                "dropout",
                                "0.05",
                                move |c, v| if let Some(l) = layers_mut(c).and_then(|l| l.get_mut(i)) {
                                    l.dropout = v
                                },
                            )}
                        </td>
                        <td>
                            {cell_number(
                                layer.l2,
                                "L2",
                                "0.0001",
                                move |c, v| if let Some(l) = layers_mut(c).and_then(|l| l.get_mut(i)) {
                                    l.l2 = v
                                },
                            )}
                        </td>
                        <td>
                            <button
                                class="icon"
                                title="Remove this layer"
                                aria-label=format!("Remove layer {}", i + 1)
                                disabled=count <= 1
                                on:click=move |_| {
                                    s.preset.set(String::new());
                                    s.config.update(|c| if let Some(l) = layers_mut(c) {
                                        if l.len() > 1 { l.remove(i); }
                                    });
                                }
                            >
                                "×"
                            </button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="table-wrap">
        <table class="layers">
            <thead>
                <tr>
                    <th>"Layer"</th>
                    <th>"Units"</th>
                    <th>"Activation"</th>
                    <th>"Dropout"</th>
                    <th>"L2"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        </div>
        <button
            class="secondary"
            data-testid="add-layer"
            on:click=move |_| {
                s.preset.set(String::new());
                s.config.update(|c| if let Some(l) = layers_mut(c) {
                    let last = l.last().cloned().unwrap_or_else(|| DenseLayerConfig::new(32));
                    l.push(last);
                });
            }
        >
            "+ Add layer"
        </button>
        <div class="row">
            {select_field(
                "Output activation",
                "output-activation",
                activation_options(),
                |c| match &c.model {
                    ModelConfig::Mlp(m) => enum_name(&m.output_activation),
                    _ => String::new(),
                },
                |c, v| if let (ModelConfig::Mlp(m), Some(a)) = (&mut c.model, parse_enum(v)) {
                    m.output_activation = a
                },
            )}
            {select_field(
                "Weight init",
                "weight-init",
                named(
                    &[WeightInit::GlorotUniform, WeightInit::He, WeightInit::KerasNormal, WeightInit::NielsenRandn],
                    |w| match w {
                        WeightInit::GlorotUniform => "Glorot uniform".into(),
                        WeightInit::He => "He".into(),
                        WeightInit::KerasNormal => "Keras normal (0.05)".into(),
                        WeightInit::NielsenRandn => "randn (homework)".into(),
                    },
                ),
                |c| match &c.model {
                    ModelConfig::Mlp(m) => enum_name(&m.init),
                    _ => String::new(),
                },
                |c, v| if let (ModelConfig::Mlp(m), Some(w)) = (&mut c.model, parse_enum(v)) {
                    m.init = w
                },
            )}
        </div>
    }
}

fn cnn_layer_name(layer: &CnnLayerConfig) -> &'static str {
    match layer {
        CnnLayerConfig::Conv2d { .. } => "conv2d",
        CnnLayerConfig::MaxPool2d { .. } => "max_pool2d",
        CnnLayerConfig::Dropout { .. } => "dropout",
        CnnLayerConfig::Flatten => "flatten",
        CnnLayerConfig::Dense { .. } => "dense",
    }
}

fn new_cnn_layer(kind: &str) -> CnnLayerConfig {
    match kind {
        "conv2d" => CnnLayerConfig::Conv2d {
            filters: 16,
            kernel: 3,
            stride: 1,
            padding: Padding::Same,
            activation: Activation::Relu,
        },
        "max_pool2d" => CnnLayerConfig::MaxPool2d { pool: 2, stride: 2 },
        "dropout" => CnnLayerConfig::Dropout { rate: 0.25 },
        "flatten" => CnnLayerConfig::Flatten,
        _ => CnnLayerConfig::Dense {
            units: 64,
            activation: Activation::Relu,
            l2: 0.0,
        },
    }
}

fn cnn_editor() -> impl IntoView {
    let s = use_session();
    fn layer_mut(c: &mut RunConfig, i: usize) -> Option<&mut CnnLayerConfig> {
        match &mut c.model {
            ModelConfig::Cnn(m) => m.layers.get_mut(i),
            _ => None,
        }
    }
    let kinds = || {
        ["conv2d", "max_pool2d", "dropout", "flatten", "dense"]
            .iter()
            .map(|k| (k.to_string(), k.to_string()))
            .collect::<Vec<_>>()
    };
    let rows = move || {
        let layers = s.config.with(|c| match &c.model {
            ModelConfig::Cnn(m) => m.layers.clone(),
            _ => Vec::new(),
        });
        let count = layers.len();
        layers
            .into_iter()
            .enumerate()
            .map(|(i, layer)| {
                let settings = match layer.clone() {
                    CnnLayerConfig::Conv2d { filters, kernel, stride, padding, activation } => view! {
                        <span class="cells">
                            {cell_number(filters as f64, "filters", "1", move |c, v| if let Some(CnnLayerConfig::Conv2d { filters, .. }) = layer_mut(c, i) { *filters = v as usize })}
                            {cell_number(kernel as f64, "kernel", "1", move |c, v| if let Some(CnnLayerConfig::Conv2d { kernel, .. }) = layer_mut(c, i) { *kernel = v as usize })}
                            {cell_number(stride as f64, "stride", "1", move |c, v| if let Some(CnnLayerConfig::Conv2d { stride, .. }) = layer_mut(c, i) { *stride = v as usize })}
                            {cell_select(
                                enum_name(&padding),
                                "padding",
                                vec![("valid".into(), "valid".into()), ("same".into(), "same".into())],
                                move |c, v| if let (Some(CnnLayerConfig::Conv2d { padding, .. }), Some(p)) = (layer_mut(c, i), parse_enum(v)) { *padding = p },
                            )}
                            {cell_select(
                                enum_name(&activation),
                                "activation",
                                activation_options(),
                                move |c, v| if let (Some(CnnLayerConfig::Conv2d { activation, .. }), Some(a)) = (layer_mut(c, i), parse_enum(v)) { *activation = a },
                            )}
                        </span>
                    }.into_any(),
                    CnnLayerConfig::MaxPool2d { pool, stride } => view! {
                        <span class="cells">
                            {cell_number(pool as f64, "pool", "1", move |c, v| if let Some(CnnLayerConfig::MaxPool2d { pool, .. }) = layer_mut(c, i) { *pool = v as usize })}
                            {cell_number(stride as f64, "stride", "1", move |c, v| if let Some(CnnLayerConfig::MaxPool2d { stride, .. }) = layer_mut(c, i) { *stride = v as usize })}
                        </span>
                    }.into_any(),
                    CnnLayerConfig::Dropout { rate } => view! {
                        <span class="cells">
                            {cell_number(rate, "rate", "0.05", move |c, v| if let Some(CnnLayerConfig::Dropout { rate }) = layer_mut(c, i) { *rate = v })}
                        </span>
                    }.into_any(),
                    CnnLayerConfig::Flatten => view! { <span class="cells"></span> }.into_any(),
                    CnnLayerConfig::Dense { units, activation, l2 } => view! {
                        <span class="cells">
                            {cell_number(units as f64, "units", "1", move |c, v| if let Some(CnnLayerConfig::Dense { units, .. }) = layer_mut(c, i) { *units = v as usize })}
                            {cell_select(
                                enum_name(&activation),
                                "activation",
                                activation_options(),
                                move |c, v| if let (Some(CnnLayerConfig::Dense { activation, .. }), Some(a)) = (layer_mut(c, i), parse_enum(v)) { *activation = a },
                            )}
                            {cell_number(l2, "L2", "0.0001", move |c, v| if let Some(CnnLayerConfig::Dense { l2, .. }) = layer_mut(c, i) { *l2 = v })}
                        </span>
                    }.into_any(),
                };
                view! {
                    <li class="cnn-layer" data-testid=format!("layer-{i}")>
                        {cell_select(
                            cnn_layer_name(&layer).to_string(),
                            "layer type",
                            kinds(),
                            move |c, v| if let Some(l) = layer_mut(c, i) { *l = new_cnn_layer(v) },
                        )}
                        {settings}
                        <button
                            class="icon"
                            title="Remove this layer"
                            aria-label=format!("Remove layer {}", i + 1)
                            disabled=count <= 1
                            on:click=move |_| {
                                s.preset.set(String::new());
                                s.config.update(|c| if let ModelConfig::Cnn(m) = &mut c.model {
                                    if m.layers.len() > 1 { m.layers.remove(i); }
                                });
                            }
                        >
                            "×"
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <p class="hint">"Layers in order; numbers are filters, kernel, stride (conv), pool, stride (pooling), rate, or units and L2 (dense)."</p>
        <ol class="cnn-stack">{rows}</ol>
        <button
            class="secondary"
            data-testid="add-layer"
            on:click=move |_| {
                s.preset.set(String::new());
                s.config.update(|c| if let ModelConfig::Cnn(m) = &mut c.model {
                    m.layers.push(new_cnn_layer("dense"));
                });
            }
        >
            "+ Add layer"
        </button>
    }
}

fn sequence_editor() -> impl IntoView {
    fn seq(c: &RunConfig) -> Option<&kindling_core::model::SequenceConfig> {
        match &c.model {
            ModelConfig::Sequence(m) => Some(m),
            _ => None,
        }
    }
    fn seq_mut(c: &mut RunConfig) -> Option<&mut kindling_core::model::SequenceConfig> {
        match &mut c.model {
            ModelConfig::Sequence(m) => Some(m),
            _ => None,
        }
    }
    view! {
        <div class="row">
            {number_field(
                "Embedding length",
                "embedding-len",
                "8",
                |c| seq(c).map_or(0.0, |m| m.embedding_len as f64),
                |c, v| if let Some(m) = seq_mut(c) { m.embedding_len = v as usize },
            )}
            {number_field(
                "Dropout",
                "embedding-dropout",
                "0.05",
                |c| seq(c).map_or(0.0, |m| m.dropout),
                |c, v| if let Some(m) = seq_mut(c) { m.dropout = v },
            )}
            {number_field(
                "Units",
                "units",
                "8",
                |c| seq(c).map_or(0.0, |m| m.units as f64),
                |c, v| if let Some(m) = seq_mut(c) { m.units = v as usize },
            )}
        </div>
    }
}

/// Optimizer, loss, schedule, engine.
#[component]
fn TrainingSection() -> impl IntoView {
    let s = use_session();
    let hw1_possible = move || s.config.with(|c| c.hw1_config().is_ok());
    view! {
        <div class="group">
            <h3>"Training"</h3>
            <div class="row">
                <label class="field">
                    <span>"Engine"</span>
                    <select
                        data-testid="engine"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            s.preset.set(String::new());
                            s.config.update(|c| {
                                c.engine = if v == "hand_written" { Engine::HandWritten } else { Engine::Autodiff }
                            });
                        }
                    >
                        <option value="autodiff" selected=move || s.config.with(|c| c.engine == Engine::Autodiff)>
                            "burn autodiff"
                        </option>
                        <option
                            value="hand_written"
                            disabled=move || !hw1_possible()
                            selected=move || s.config.with(|c| c.engine == Engine::HandWritten)
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
                    named(&[LossKind::SoftmaxCrossEntropy, LossKind::BinaryCrossEntropy, LossKind::Quadratic], |l| l.name().to_string()),
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

/// The Keras-like summary, memory estimate and the config's problems.
#[component]
fn SummarySection() -> impl IntoView {
    let s = use_session();
    let summary = move || {
        s.config.with(|c| match c.model.summary() {
            Ok(summary) => {
                let slots = match c.training.optimizer.kind {
                    OptimizerKind::Adam => 2,
                    OptimizerKind::RmsProp => 1,
                    OptimizerKind::Sgd if c.training.optimizer.momentum > 0.0 => 1,
                    OptimizerKind::Sgd => 0,
                };
                let memory = summary.training_bytes(c.training.batch_size, slots);
                (
                    summary.to_string(),
                    format!(
                        "Training memory ≈ {} (weights {}, batch {})",
                        human_bytes(memory),
                        human_bytes(summary.weight_bytes),
                        c.training.batch_size
                    ),
                )
            }
            Err(e) => (
                format!("The stack does not fit its input: {e}"),
                String::new(),
            ),
        })
    };
    let problems = move || s.config.with(|c| c.problems());
    view! {
        <div class="group">
            <h3>"Summary"</h3>
            <pre class="summary" data-testid="summary">{move || summary().0}</pre>
            <p class="hint">{move || summary().1}</p>
            <ul class="problems" data-testid="config-problems">
                {move || {
                    problems()
                        .into_iter()
                        .map(|p| view! { <li>{p.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// The left column.
#[component]
pub fn BuilderPanel() -> impl IntoView {
    view! {
        <section class="panel builder" aria-label="Build a run">
            <h2>"Build"</h2>
            <DataSection />
            <ModelSection />
            <TrainingSection />
            <SummarySection />
        </section>
    }
}
