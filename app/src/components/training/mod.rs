//! The middle column: Train / Pause / Stop, progress and messages ([`controls`]), live
//! curves and the per-epoch table ([`curves`]), the data preview and the 2-D decision
//! boundary ([`data_view`]), the network view of MLPs ([`network`]) and their first-layer
//! weights as images ([`unit_weights`]), steering a paused run and the markers of its
//! changes ([`steer`]), and the test report after a run ([`report`]).

mod controls;
mod curves;
mod data_view;
mod health;
mod network;
mod report;
mod steer;
mod unit_weights;

use kindling_core::data::loader::DATA_COMMAND;
use leptos::prelude::*;

use crate::charts::Metric;
use crate::session::{use_builder, use_current_run, use_session};
use controls::{Controls, Messages, ProgressLine};
use curves::{CurveChart, EpochTable};
pub use data_view::ImageTile;
use data_view::{Boundary, Preview};
use network::NetworkPanel;
use report::Report;
use steer::{SteerMarkers, SteerPanel};
use unit_weights::UnitWeightsPanel;

/// A number with thousands separators (negative shown as 0).
fn thousands(n: f64) -> String {
    kindling_core::model::summary::thousands(n.max(0.0).round() as u64)
}

/// The middle column.
#[component]
pub fn TrainingPanel() -> impl IntoView {
    let run = use_current_run();
    let builder = use_builder();
    let session = use_session();
    let log = RwSignal::new(false);
    // The run's data while one loads or trains; between runs the builder's (whose toy set a
    // click on the boundary edits).
    let is_toy = move || {
        let builder_map = || builder.config.with(|c| c.dataset.has_boundary_map());
        if run.busy() {
            run.config
                .with(|c| c.as_ref().map(|c| c.dataset.has_boundary_map()))
                .unwrap_or_else(builder_map)
        } else {
            builder_map()
        }
    };
    view! {
        <section class="panel training" aria-label="Train and watch">
            <h2>"Train"</h2>
            <Controls />
            <ProgressLine />
            <Messages />
            <SteerPanel />
            <div class="chart-tools">
                <label class="check" data-lesson="views" title="The network view, the boundary map and the first-layer weights, computed in the worker a few times a second; closed, training runs at full speed">
                    <input
                        type="checkbox"
                        data-testid="views-open"
                        prop:checked=move || run.views_open.get()
                        on:change=move |ev| session.set_views_open(event_target_checked(&ev))
                    />
                    "live views"
                </label>
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="log-scale"
                        prop:checked=move || log.get()
                        on:change=move |ev| log.set(event_target_checked(&ev))
                    />
                    "log-scale loss"
                </label>
            </div>
            <CurveChart metric=Metric::Loss log=log />
            <CurveChart metric=Metric::Accuracy log=log />
            <SteerMarkers />
            <Show when=is_toy>
                <Boundary />
            </Show>
            <Show when=move || run.network.with(|n| n.is_some())>
                <NetworkPanel />
            </Show>
            <Show when=move || run.unit_images.with(|i| i.is_some())>
                <UnitWeightsPanel />
            </Show>
            <Show when=move || run.views_open.get() && run.health.with(|h| h.is_some())>
                <health::HealthPanel />
            </Show>
            <Preview />
            <EpochTable />
            <Report />
            <p class="hint data-hint">
                {format!("Datasets come from the data folder that `{DATA_COMMAND}` makes; the first load is cached by the browser.")}
            </p>
        </section>
    }
}
