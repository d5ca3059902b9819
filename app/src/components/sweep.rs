//! Sweeps: pick fields and their values (lists or ranges) over the builder's run, or one of the
//! seed notebooks' sweeps; the runs train one after another; a results table, the final metric
//! against the swept value, and CSV export.

use kindling_core::record::RunRecord;
use kindling_core::sweep::{
    parse_values, SweepAxis, SweepField, SweepGrid, SweepPreset, SWEEP_PRESETS,
};
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::charts::{draw_overlay, Series};
use crate::files::download;
use crate::session::{use_session, SweepRun, SweepState};
use kindling_core::train::score::format_figure;

/// One axis being edited: field name and the values' text.
#[derive(Clone, Debug, PartialEq)]
struct AxisDraft {
    field: String,
    values: String,
}

fn axes_of(drafts: &[AxisDraft]) -> Result<Vec<SweepAxis>, String> {
    drafts
        .iter()
        .map(|d| {
            let field =
                SweepField::parse(&d.field).ok_or_else(|| format!("no field {}", d.field))?;
            let values = parse_values(&d.values).map_err(|e| format!("{}: {e}", d.field))?;
            Ok(SweepAxis::new(field, values))
        })
        .collect()
}

fn csv(state: &SweepState, runs: &[RunRecord]) -> String {
    let header: Vec<String> = state
        .fields
        .iter()
        .map(|f| crate::runs::csv_field(f))
        .collect();
    let mut out = header.join(",");
    out.push_str(",status,final_heldout_accuracy,test_accuracy,final_train_loss,seconds\n");
    for r in &state.runs {
        let record = r.record.and_then(|id| runs.iter().find(|x| x.id == id));
        let values: Vec<String> = r.values.iter().map(|v| v.to_string()).collect();
        let last = record.and_then(|x| x.epochs.last());
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            values.join(","),
            record.map_or(if r.done { "failed" } else { "queued" }, |x| x
                .status
                .name()),
            last.map(|e| format!("{:.6}", e.eval_accuracy))
                .unwrap_or_default(),
            record
                .and_then(|x| x.test_accuracy)
                .map(|a| format!("{a:.6}"))
                .unwrap_or_default(),
            last.map(|e| format!("{:.6}", e.train_loss))
                .unwrap_or_default(),
            record
                .map(|x| format!("{:.2}", x.seconds))
                .unwrap_or_default(),
        ));
    }
    out
}

/// The sweep panel.
#[component]
pub fn SweepPanel() -> impl IntoView {
    let s = use_session();
    let drafts = RwSignal::new(vec![AxisDraft {
        field: "learning_rate".into(),
        values: "0.3, 0.1, 0.03".into(),
    }]);
    let base_preset = RwSignal::new(String::new());
    let grid = move || -> Result<SweepGrid, String> {
        let base = match base_preset.get().as_str() {
            "" => s.builder.config.get(),
            name => SweepPreset::find(name)
                .map(|preset| (preset.base)())
                .ok_or("no such sweep")?,
        };
        let mut base = base;
        base.device = s.builder.device.get().chosen().unwrap_or_default();
        Ok(SweepGrid::new(base, axes_of(&drafts.get())?))
    };
    let points = move || grid().and_then(|g| g.points().map_err(|e| e.to_string()));
    let running = move || {
        s.sweeps
            .sweep
            .with(|st| st.as_ref().is_some_and(|st| st.current.is_some()))
    };
    let start = move |_| match grid().and_then(|g| {
        let points = g.points().map_err(|e| e.to_string())?;
        Ok((g, points))
    }) {
        Ok((g, points)) => s.start_sweep(SweepState {
            fields: g.axes.iter().map(|a| a.field.name()).collect(),
            runs: points
                .iter()
                .map(|p| SweepRun {
                    values: p.values.clone(),
                    label: p.label(&g.axes),
                    config: p.config.clone(),
                    record: None,
                    done: false,
                })
                .collect(),
            current: None,
            cancelled: false,
        }),
        Err(e) => s
            .messages
            .error
            .set(Some(format!("The sweep cannot start: {e}"))),
    };
    let chart: NodeRef<Canvas> = NodeRef::new();
    Effect::new(move |_| {
        let Some(state) = s.sweeps.sweep.get() else {
            return;
        };
        let runs = s.kept.runs.get();
        // Final held-out accuracy against the first axis; one line per value of the others.
        let mut series: Vec<Series> = Vec::new();
        for r in &state.runs {
            let Some(record) = r.record.and_then(|id| runs.iter().find(|x| x.id == id)) else {
                continue;
            };
            let Some(acc) = record.epochs.last().map(|e| e.eval_accuracy) else {
                continue;
            };
            let rest: Vec<String> = state
                .fields
                .iter()
                .zip(&r.values)
                .skip(1)
                .map(|(f, v)| format!("{f}={v}"))
                .collect();
            let name = if rest.is_empty() {
                "final held-out accuracy".to_string()
            } else {
                rest.join(" ")
            };
            let x = r.values[0];
            match series.iter_mut().find(|s| s.name == name) {
                Some(s) => s.points.push((x, acc)),
                None => series.push(Series {
                    name,
                    points: vec![(x, acc)],
                }),
            }
        }
        let log_x = state.fields.first().is_some_and(|f| f == "learning_rate");
        for s in &mut series {
            s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
            if log_x {
                for p in &mut s.points {
                    p.0 = p.0.max(1e-12).log10();
                }
            }
        }
        if let Some(c) = chart.get() {
            let x_desc = state
                .fields
                .first()
                .map(|f| {
                    if log_x {
                        format!("log10 {f}")
                    } else {
                        f.clone()
                    }
                })
                .unwrap_or_default();
            draw_overlay(&c, &series, &x_desc, "final held-out accuracy", false);
        }
    });
    let field_options = || SweepField::ALL.iter().map(|f| f.name()).collect::<Vec<_>>();
    view! {
        <section class="panel sweep" aria-label="Sweeps" data-testid="sweep" data-lesson="sweeps">
            <h2>"Sweep"</h2>
            <div class="row">
                <label class="field wide">
                    <span>"Start from"</span>
                    <select
                        data-testid="sweep-preset"
                        on:change=move |ev| {
                            let name = event_target_value(&ev);
                            if let Some(preset) = SweepPreset::find(&name) {
                                drafts.set(preset.axes.iter().map(|(field, values)| AxisDraft {
                                    field: field.name(),
                                    values: values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "),
                                }).collect());
                            }
                            base_preset.set(name);
                        }
                    >
                        <option value="" selected=move || base_preset.get().is_empty()>"the run in the builder"</option>
                        {SWEEP_PRESETS.iter().map(|preset| view! {
                            <option value=preset.name>{format!("{}: {}", preset.name, preset.description)}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <table class="axes">
                <thead><tr><th>"Field"</th><th>"Values: 1, 0.1, 0.01 · 0.001..0.01 step 0.001 · 1e-5..1 log 6"</th><th></th></tr></thead>
                <tbody>
                    {move || drafts.get().into_iter().enumerate().map(|(i, d)| {
                        let current = d.field.clone();
                        view! {
                            <tr data-testid=format!("sweep-axis-{i}")>
                                <td>
                                    <select class="cell" aria-label="Swept field" on:change=move |ev| {
                                        let v = event_target_value(&ev);
                                        drafts.update(|ds| ds[i].field = v);
                                    }>
                                        {field_options().into_iter().map(|f| {
                                            let selected = f == current;
                                            let value = f.clone();
                                            view! { <option value=value selected=selected>{f}</option> }
                                        }).collect_view()}
                                    </select>
                                </td>
                                <td>
                                    <input class="cell values" type="text" aria-label="Values" data-testid="sweep-values"
                                        prop:value=d.values.clone()
                                        on:change=move |ev| {
                                            let v = event_target_value(&ev);
                                            drafts.update(|ds| ds[i].values = v);
                                        }
                                    />
                                </td>
                                <td>
                                    <button class="icon" aria-label="Remove this field"
                                        on:click=move |_| drafts.update(|ds| { if ds.len() > 1 { ds.remove(i); } })>"×"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <div class="controls">
                <button class="secondary" on:click=move |_| drafts.update(|ds| ds.push(AxisDraft { field: "seed".into(), values: "1, 2, 3".into() }))>
                    "+ Add field"
                </button>
                <button class="primary" data-testid="run-sweep"
                    disabled=move || running() || s.run.busy() || points().is_err() || !s.worker.ready.get()
                    on:click=start>
                    {move || match points() {
                        Ok(p) => format!("Run sweep ({} runs)", p.len()),
                        Err(_) => "Run sweep".into(),
                    }}
                </button>
                <button data-testid="stop-sweep" disabled=move || !running() on:click=move |_| s.sweeps.cancel()>
                    "Stop after this run"
                </button>
                <button data-testid="export-csv" disabled=move || s.sweeps.sweep.get().is_none()
                    on:click=move |_| {
                        let text = s.sweeps.sweep.with_untracked(|st| st.as_ref().map(|st| s.kept.runs.with_untracked(|r| csv(st, r))));
                        if let Some(text) = text {
                            if let Err(e) = download("kindling-sweep.csv", "text/csv", text.as_bytes()) {
                                s.messages.error.set(Some(format!("The CSV could not be saved: {e}")));
                            }
                        }
                    }>
                    "Export CSV"
                </button>
            </div>
            <p class="problems" data-testid="sweep-problem">{move || points().err().unwrap_or_default()}</p>
            {move || s.sweeps.sweep.get().map(|state| {
                let runs = s.kept.runs.get();
                view! {
                    <table class="sweep-results" data-testid="sweep-results">
                        <thead>
                            <tr>
                                {state.fields.iter().map(|f| view! { <th>{f.clone()}</th> }).collect_view()}
                                <th>"status"</th><th>"held-out acc"</th><th>"test acc"</th><th>"time"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {state.runs.iter().enumerate().map(|(i, r)| {
                                let record = r.record.and_then(|id| runs.iter().find(|x| x.id == id)).cloned();
                                let status = match (&record, state.current == Some(i), r.done) {
                                    (_, true, _) => "training".to_string(),
                                    (Some(x), _, _) => x.status.name().to_string(),
                                    (None, _, true) => "failed".into(),
                                    (None, _, false) => if state.cancelled { "cancelled".into() } else { "queued".into() },
                                };
                                let data_status = status.clone();
                                // Why a run diverged or failed (a worker that died, say).
                                let why = record.as_ref().and_then(|x| x.status.reason().map(str::to_string)).unwrap_or_default();
                                view! {
                                    <tr data-testid="sweep-row" data-status=data_status>
                                        {r.values.iter().map(|v| view! { <td>{v.to_string()}</td> }).collect_view()}
                                        <td title=why>{status}</td>
                                        <td>{record.as_ref().and_then(|x| x.epochs.last().map(|e| format_figure(e.eval_accuracy, x.config.dataset.is_regression()))).unwrap_or_default()}</td>
                                        <td>{record.as_ref().and_then(|x| x.test_accuracy.map(|a| format_figure(a, x.config.dataset.is_regression()))).unwrap_or_default()}</td>
                                        <td>{record.as_ref().map(|x| format!("{:.1} s", x.seconds)).unwrap_or_default()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            })}
            <Show when=move || s.sweeps.sweep.get().is_some()>
                <canvas node_ref=chart width="560" height="260" class="sweep-chart" data-testid="sweep-chart"></canvas>
            </Show>
        </section>
    }
}
