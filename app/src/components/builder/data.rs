//! The builder's presets and dataset options (toy sets, image subsets, IMDB, uploads).

use kindling_core::data::upload::{UploadedData, UploadedInput};
use kindling_core::data::DatasetId;
use kindling_core::model::ModelConfig;
use kindling_core::run::{Preset, PRESETS};
use kindling_core::{DatasetConfig, RunConfig};
use leptos::prelude::*;

use crate::builder::switch_dataset;
use crate::components::fields::{file_button, number_field};
use crate::session::{use_builder, use_messages, use_session};
use crate::toy_edits::{set_feature, set_toy_classes};
use kindling_core::data::toy::ToyFeature;

/// Presets and dataset.
#[component]
pub(super) fn DataSection() -> impl IntoView {
    let builder = use_builder();
    let messages = use_messages();
    let description = move || {
        let p = builder.preset.get();
        Preset::find(&p)
            .map(|preset| preset.description.to_string())
            .unwrap_or_else(|| "Your own settings.".into())
    };
    view! {
        <div class="group" data-lesson="dataset">
            <label class="field wide">
                <span>"Preset"</span>
                <select
                    data-testid="preset"
                    on:change=move |ev| {
                        let name = event_target_value(&ev);
                        if let Some(config) = RunConfig::preset(&name) {
                            builder.config.set(config);
                            builder.preset.set(name);
                            messages.error.set(None);
                        }
                    }
                >
                    <option value="" selected=move || builder.preset.get().is_empty()>
                        "(custom)"
                    </option>
                    {PRESETS
                        .iter()
                        .map(|Preset { name, .. }| {
                            let n = name.to_string();
                            view! {
                                <option value=*name selected=move || builder.preset.get() == n>
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
                        if let Some(id) = DatasetId::parse(&event_target_value(&ev)) {
                            builder.edit(|c| switch_dataset(c, id));
                        }
                    }
                >
                    {DatasetId::OFFERED
                        .into_iter()
                        .map(|id| {
                            view! {
                                <option
                                    value=id.id()
                                    selected=move || builder.config.with(|c| c.dataset.id() == id)
                                >
                                    {id.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                    {move || builder.config.with(|c| match &c.dataset {
                        DatasetConfig::Uploaded(u) => Some(view! {
                            <option value=DatasetId::Uploaded.id() selected=true>{format!("{}: {}", DatasetId::Uploaded.label(), u.file)}</option>
                        }),
                        _ => None,
                    })}
                </select>
            </label>
            <UploadData />
            {move || {
                let family = builder.config.with(|c| match &c.dataset {
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
    let builder = use_builder();
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
                |c, v| if let Some(t) = toy_mut(c) {
                    t.size = v as usize;
                    // Removed points past the new size no longer exist.
                    let size = t.size;
                    if let Some(removed) = &mut t.removed {
                        removed.retain(|&i| i < size);
                    }
                },
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
                |c, v| if let Some(t) = toy_mut(c) {
                    // Another seed draws other points: the removals named the old ones.
                    if t.seed != v as u64 {
                        t.removed = None;
                    }
                    t.seed = v as u64;
                },
            )}
            <Show when=move || builder.config.with(|c| toy(c).is_some_and(|t| t.kind.has_class_choice()))>
                {number_field(
                    "Classes",
                    "toy-classes",
                    "1",
                    |c| toy(c).map_or(2.0, |t| t.classes() as f64),
                    |c, v| set_toy_classes(c, v.max(0.0) as usize),
                )}
            </Show>
        </div>
        <FeatureInputs />
    }
}

/// The features a model reads of each 2-D point (TensorFlow Playground's inputs).
#[component]
fn FeatureInputs() -> impl IntoView {
    let builder = use_builder();
    let messages = use_messages();
    let checked = move |f: ToyFeature| {
        builder.config.with(|c| match &c.dataset {
            DatasetConfig::Toy(t) => t.features().contains(&f),
            _ => false,
        })
    };
    view! {
        <fieldset class="features" data-testid="feature-inputs">
            <legend>"Features the model reads of each point"</legend>
            {ToyFeature::ALL
                .into_iter()
                .map(|f| {
                    view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                data-feature=f.name()
                                prop:checked=move || checked(f)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let mut kept = true;
                                    builder.edit(|c| kept = set_feature(c, f, on));
                                    if !kept {
                                        messages.fail("A model reads at least one feature.");
                                        builder.config.update(|_| {});
                                    }
                                }
                            />
                            {f.name()}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
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
    let builder = use_builder();
    let description = move || {
        builder.config.with(|c| {
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
        c.dataset.image_subset()
    }
    fn subset_mut(c: &mut RunConfig) -> Option<&mut kindling_core::run::ImageSubset> {
        c.dataset.image_subset_mut()
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
