//! The builder, the left column: presets and dataset ([`data`]), the model editor
//! ([`model`]), training settings ([`settings`]), and the live Keras-like summary with
//! parameter count, memory estimate and inline problems ([`summary`]).

mod data;
mod model;
mod settings;
mod summary;

use leptos::prelude::*;

use crate::builder::enum_name;

/// (value, label) options of a serialisable enum's values.
fn named<T: serde::Serialize>(values: &[T], label: impl Fn(&T) -> String) -> Vec<(String, String)> {
    values.iter().map(|v| (enum_name(v), label(v))).collect()
}

/// The left column.
#[component]
pub fn BuilderPanel() -> impl IntoView {
    view! {
        <section class="panel builder" aria-label="Build a run">
            <h2>"Build"</h2>
            <data::DataSection />
            <model::ModelSection />
            <settings::TrainingSection />
            <summary::SummarySection />
        </section>
    }
}
