//! The Keras-like summary, the memory estimate and the config's problems.

use kindling_core::model::summary::human_bytes;
use leptos::prelude::*;

use crate::session::use_builder;

/// The Keras-like summary, memory estimate and the config's problems.
#[component]
pub(super) fn SummarySection() -> impl IntoView {
    let builder = use_builder();
    let summary = move || {
        builder.config.with(|c| match c.memory_estimate() {
            Ok((summary, memory)) => (
                summary.to_string(),
                format!(
                    "Memory to train ≈ {} (weights {}, batch {})",
                    human_bytes(memory),
                    human_bytes(summary.weight_bytes),
                    c.training.batch_size
                ),
            ),
            Err(e) => (
                format!("The stack does not fit its input: {e}"),
                String::new(),
            ),
        })
    };
    let problems = move || builder.config.with(|c| c.problems());
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
