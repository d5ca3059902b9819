//! The model editor: MLP layers, the CNN stack, Embedding + LSTM/GRU.

use kindling_core::model::{
    Activation, CnnLayerConfig, CnnLayerKind, DenseLayerConfig, ModelConfig, ModelKind, WeightInit,
};
use kindling_core::RunConfig;
use leptos::prelude::*;

use crate::builder::{activations, enum_name, parse_enum, switch_model_kind};
use crate::components::fields::{cell_number, cell_select, number_field, select_field};
use crate::session::use_builder;

use super::named;

fn activation_options() -> Vec<(String, String)> {
    activations()
        .into_iter()
        .map(|(n, a)| (n, format!("{a:?}").to_lowercase()))
        .collect()
}

/// The model editor for the current kind.
#[component]
pub(super) fn ModelSection() -> impl IntoView {
    let builder = use_builder();
    view! {
        <div class="group" data-lesson="model">
            <h3>"Model"</h3>
            <label class="field wide">
                <span>"Kind"</span>
                <select
                    data-testid="model-kind"
                    on:change=move |ev| {
                        if let Some(kind) = ModelKind::parse(&event_target_value(&ev)) {
                            builder.edit(|c| switch_model_kind(c, kind));
                        }
                    }
                >
                    {move || {
                        let (offered, current) = builder.config.with(|c| {
                            let offered: Vec<ModelKind> = ModelKind::ALL
                                .into_iter()
                                .filter(|k| c.dataset.offers(*k))
                                .collect();
                            (offered, ModelKind::of(&c.model))
                        });
                        offered
                            .into_iter()
                            .map(|kind| {
                                view! {
                                    <option value=kind.id() selected=kind == current>
                                        {kind.label()}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            {move || match builder.config.with(|c| ModelKind::of(&c.model)) {
                ModelKind::Mlp => mlp_editor().into_any(),
                ModelKind::Cnn => cnn_editor().into_any(),
                ModelKind::Lstm | ModelKind::Gru => sequence_editor().into_any(),
            }}
        </div>
    }
}

fn mlp_editor() -> impl IntoView {
    let builder = use_builder();
    fn layers_mut(c: &mut RunConfig) -> Option<&mut Vec<DenseLayerConfig>> {
        match &mut c.model {
            ModelConfig::Mlp(m) => Some(&mut m.hidden),
            _ => None,
        }
    }
    let rows = move || {
        let layers = builder.config.with(|c| match &c.model {
            ModelConfig::Mlp(m) => m.hidden.clone(),
            _ => Vec::new(),
        });
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
                                title="Remove this layer (with none, the inputs feed the output directly)"
                                aria-label=format!("Remove layer {}", i + 1)
                                on:click=move |_| {
                                    builder.edit(|c| if let Some(l) = layers_mut(c) {
                                        if i < l.len() { l.remove(i); }
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
                builder.edit(|c| if let Some(l) = layers_mut(c) {
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

fn cnn_editor() -> impl IntoView {
    let builder = use_builder();
    fn layer_mut(c: &mut RunConfig, i: usize) -> Option<&mut CnnLayerConfig> {
        match &mut c.model {
            ModelConfig::Cnn(m) => m.layers.get_mut(i),
            _ => None,
        }
    }
    let kinds = || {
        CnnLayerKind::ALL
            .iter()
            .map(|k| (k.id().to_string(), k.id().to_string()))
            .collect::<Vec<_>>()
    };
    let rows = move || {
        let layers = builder.config.with(|c| match &c.model {
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
                            layer.kind().id().to_string(),
                            "layer type",
                            kinds(),
                            move |c, v| if let (Some(l), Some(kind)) = (layer_mut(c, i), CnnLayerKind::parse(v)) { *l = kind.new_layer() },
                        )}
                        {settings}
                        <button
                            class="icon"
                            title="Remove this layer"
                            aria-label=format!("Remove layer {}", i + 1)
                            disabled=count <= 1
                            on:click=move |_| {
                                builder.edit(|c| if let ModelConfig::Cnn(m) = &mut c.model {
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
                builder.edit(|c| if let ModelConfig::Cnn(m) = &mut c.model {
                    m.layers.push(CnnLayerKind::Dense.new_layer());
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
