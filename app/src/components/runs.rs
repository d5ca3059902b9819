//! The runs panel: every kept run in a sortable, filterable table (rename, notes, delete with
//! undo, share link, CSV export); selected runs overlaid on one chart with a config diff.

use kindling_core::export::Framework;
use kindling_core::link::encode_link;
use kindling_core::record::RunRecord;
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::fields::file_button;
use crate::charts::{draw_overlay, Series, RUN_COLOURS};
use crate::files::download;
use crate::protocol::ExportFormat;
use crate::runs::{config_diff, run_rows, runs_csv, RunRow, SortKey};
use crate::session::{use_kept_runs, use_session};

/// Puts `text` on the clipboard (navigator.clipboard.writeText), when the browser allows it.
pub(crate) fn copy_text(text: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator: wasm_bindgen::JsValue = window.navigator().into();
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into()) else {
        return;
    };
    if let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into()) {
        if let Ok(write) = write.dyn_into::<js_sys::Function>() {
            let _ = write.call1(&clipboard, &text.into());
        }
    }
}

fn page_base() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// Overlay charts of the selected runs.
#[component]
fn Overlay() -> impl IntoView {
    let kept = use_kept_runs();
    let accuracy: NodeRef<Canvas> = NodeRef::new();
    let loss: NodeRef<Canvas> = NodeRef::new();
    // Only the selected runs are copied (a run's curve can hold many points).
    let chosen = move || {
        let ids = kept.selected.get();
        if ids.is_empty() {
            return Vec::new();
        }
        kept.runs.with(|runs| {
            runs.iter()
                .filter(|r| ids.contains(&r.id))
                .cloned()
                .collect::<Vec<RunRecord>>()
        })
    };
    Effect::new(move |_| {
        let runs = chosen();
        let acc: Vec<Series> = runs
            .iter()
            .map(|r| Series {
                name: r.name.clone(),
                points: r
                    .epochs
                    .iter()
                    .map(|e| (e.epoch as f64, e.eval_accuracy))
                    .collect(),
            })
            .collect();
        let losses: Vec<Series> = runs
            .iter()
            .map(|r| Series {
                name: r.name.clone(),
                points: r.curve.iter().map(|p| (p.step as f64, p.loss)).collect(),
            })
            .collect();
        // R² for regression runs.
        let figure = match runs
            .iter()
            .filter(|r| r.config.dataset.is_regression())
            .count()
        {
            0 => "held-out accuracy",
            n if n == runs.len() => "held-out R²",
            _ => "held-out accuracy or R²",
        };
        if let Some(c) = accuracy.get() {
            draw_overlay(&c, &acc, "epoch", figure, false);
        }
        if let Some(c) = loss.get() {
            draw_overlay(&c, &losses, "batches", "training loss (log)", true);
        }
    });
    let diff = move || config_diff(&chosen());
    view! {
        <Show when=move || !kept.selected.get().is_empty()>
            <div class="overlay" data-testid="overlay">
                <div class="overlay-charts">
                    <canvas node_ref=accuracy width="520" height="240" data-testid="overlay-chart"></canvas>
                    <canvas node_ref=loss width="520" height="240"></canvas>
                </div>
                <Show when=move || { chosen().len() > 1 }>
                    <h4>"What differs between the selected runs"</h4>
                    <table class="diff" data-testid="config-diff">
                        <thead>
                            <tr>
                                <th>"setting"</th>
                                {move || chosen().into_iter().enumerate().map(|(i, r)| {
                                    let colour = RUN_COLOURS[i % RUN_COLOURS.len()];
                                    view! { <th style=format!("color: rgb({},{},{})", colour.0, colour.1, colour.2)>{r.name}</th> }
                                }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            {move || {
                                let rows = diff();
                                if rows.is_empty() {
                                    view! { <tr><td colspan="9">"The configs are identical (seed included)."</td></tr> }.into_any()
                                } else {
                                    rows.into_iter().map(|(field, values)| view! {
                                        <tr>
                                            <td class="field-name">{field}</td>
                                            {values.into_iter().map(|v| view! { <td>{v}</td> }).collect_view()}
                                        </tr>
                                    }).collect_view().into_any()
                                }
                            }}
                        </tbody>
                    </table>
                </Show>
            </div>
        </Show>
    }
}

/// The runs panel.
#[component]
pub fn RunsPanel() -> impl IntoView {
    let s = use_session();
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new((SortKey::Created, true));
    let shown = Memo::new(move |_| {
        let (key, descending) = sort.get();
        s.kept
            .runs
            .with(|runs| run_rows(runs, &filter.get(), key, descending))
    });
    let no_rows = Memo::new(move |_| shown.with(|rows| rows.is_empty()));
    let header = move |label: &'static str, key: SortKey| {
        view! {
            <th>
                <button
                    class="sort"
                    on:click=move |_| sort.update(|(k, d)| {
                        if *k == key { *d = !*d } else { *k = key; *d = key != SortKey::Name }
                    })
                >
                    {label}
                    {move || {
                        let (k, d) = sort.get();
                        if k == key { if d { " ↓" } else { " ↑" } } else { "" }
                    }}
                </button>
            </th>
        }
    };
    let delete = move |id: u64| {
        let Some(run) = s.kept.get(id) else {
            return;
        };
        s.kept.runs.update(|r| r.retain(|r| r.id != id));
        s.kept.selected.update(|sel| sel.retain(|x| *x != id));
        let shared = run.shared;
        s.kept.deleted.set(Some(run));
        if !shared {
            s.delete_run(id);
        }
    };
    let undo = move |_| {
        if let Some(run) = s.kept.deleted.get_untracked() {
            s.kept.deleted.set(None);
            s.kept.runs.update(|r| {
                r.push(run.clone());
                r.sort_by_key(|r| r.id);
            });
            s.persist(run);
        }
    };
    let share = move |id: u64| {
        if let Some(run) = s.kept.get(id) {
            let link = encode_link(&page_base(), &run);
            s.kept.share_link.set(Some(link));
        }
    };
    // The command that trains the run natively (its share link, with the model file to
    // write), shown and copied at once.
    let run_natively = move |id: u64| {
        if let Some(run) = s.kept.get(id) {
            let command = run.native_command(&encode_link(&page_base(), &run));
            copy_text(&command);
            s.kept.native_command.set(Some(command));
        }
    };
    let export = move |_| {
        let csv = s.kept.runs.with_untracked(|r| runs_csv(r));
        if let Err(e) = download("kindling-runs.csv", "text/csv", csv.as_bytes()) {
            s.messages
                .error
                .set(Some(format!("The CSV could not be saved: {e}")));
        }
    };
    view! {
        <section class="panel runs" aria-label="Runs" data-lesson="runs">
            <h2>"Runs"</h2>
            <div class="runs-tools">
                <input
                    type="search"
                    placeholder="Filter by name, dataset, model, status, notes"
                    aria-label="Filter runs"
                    data-testid="runs-filter"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
                <button data-testid="export-runs" on:click=export>"Export CSV"</button>
                {file_button(
                    "Import model",
                    "A model file (.bpk) from Download model, or from kindling train --weights",
                    ".bpk",
                    false,
                    "import-weights",
                    move |mut files| {
                        let (name, bytes) = files.swap_remove(0);
                        s.import_model(&name, bytes)
                    },
                )}
                <Show when=move || s.kept.deleted.get().is_some()>
                    <span class="undo">
                        {move || format!("Deleted \"{}\".", s.kept.deleted.get().map(|r| r.name).unwrap_or_default())}
                        <button data-testid="undo-delete" on:click=undo>"Undo"</button>
                    </span>
                </Show>
            </div>
            <Show when=move || s.kept.share_link.get().is_some()>
                <div class="share">
                    <label class="field wide">
                        <span>{move || format!("Share link ({} characters; the run is in the part after #, never sent to a server)", s.kept.share_link.get().map(|l| l.len()).unwrap_or(0))}</span>
                        <input type="text" readonly data-testid="share-link" prop:value=move || s.kept.share_link.get().unwrap_or_default() />
                    </label>
                    <button on:click=move |_| {
                        if let Some(link) = s.kept.share_link.get_untracked() {
                            copy_text(&link);
                        }
                    }>"Copy"</button>
                </div>
                <super::lesson::LessonMaker link=Signal::derive(move || s.kept.share_link.get()) />
            </Show>
            <Show when=move || s.kept.native_command.get().is_some()>
                <div class="share">
                    <label class="field wide">
                        <span>"Run natively: in a clone of Kindling, this trains the run with the same config and seed on this machine's CPU, then exports it for PyTorch and Keras (copied)"</span>
                        <input type="text" readonly data-testid="native-command" prop:value=move || s.kept.native_command.get().unwrap_or_default() />
                    </label>
                    <button on:click=move |_| {
                        if let Some(command) = s.kept.native_command.get_untracked() {
                            copy_text(&command);
                        }
                    }>"Copy"</button>
                </div>
            </Show>
            <Show when=move || s.kept.reproduction.get().is_some()>
                <div class="message notice" data-testid="reproduce-result"
                    data-accuracy-difference=move || s.kept.reproduction.get().map(|r| format!("{:.6}", r.accuracy_difference)).unwrap_or_default()
                    data-loss-difference=move || s.kept.reproduction.get().map(|r| format!("{:.6}", r.loss_difference)).unwrap_or_default()>
                    {move || s.kept.reproduction.get().map(|r| r.text).unwrap_or_default()}
                </div>
            </Show>
            <div class="table-wrap">
                <table class="runs-table" data-testid="runs-table">
                    <thead>
                        <tr>
                            <th><span class="sr-only">"Select"</span></th>
                            {header("Name", SortKey::Name)}
                            <th>"Data · model"</th>
                            <th>"Status"</th>
                            {header("Accuracy", SortKey::Accuracy)}
                            <th>"Epochs"</th>
                            {header("Time", SortKey::Seconds)}
                            {header("Started", SortKey::Created)}
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <Show when=move || no_rows.get()>
                            <tr><td colspan="9" class="hint">"No runs yet: train one, or open a share link."</td></tr>
                        </Show>
                        // Keyed by what a row shows: an update of one run rebuilds that row alone.
                        <For each=move || shown.get() key=|row| row.clone() let:r>
                            <RunRowView r share run_natively delete />
                        </For>
                    </tbody>
                </table>
            </div>
            <Overlay />
        </section>
    }
}

/// When a run started, as "30/11/2026, 22:22:04" in local time: from the date's fields
/// (`toLocaleString` would load the locale's data on first use, 20-40 ms of the page's thread).
fn started_text(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!(
        "{:02}/{:02}/{}, {:02}:{:02}:{:02}",
        d.get_date(),
        d.get_month() + 1,
        d.get_full_year(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

/// One row of the runs table.
#[component]
fn RunRowView(
    r: RunRow,
    share: impl Fn(u64) + Copy + Send + Sync + 'static,
    run_natively: impl Fn(u64) + Copy + Send + Sync + 'static,
    delete: impl Fn(u64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let s = use_session();
    let id = r.id;
    let checked = move || s.kept.selected.get().contains(&id);
    let started = started_text(r.created_ms as f64);
    view! {
        <tr data-testid="run-row" data-run-id=id.to_string() data-status=r.status class:shared=r.shared
            data-epochs=r.epochs_done.to_string() data-epoch-list=r.epoch_list>
            <td>
                <input type="checkbox" aria-label=format!("Select {}", r.name)
                    prop:checked=checked
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        s.kept.selected.update(|sel| {
                            sel.retain(|x| *x != id);
                            if on { sel.push(id) }
                        });
                    }
                />
            </td>
            <td>
                <input class="name" type="text" aria-label="Run name" prop:value=r.name.clone() readonly=r.shared
                    on:change=move |ev| {
                        let name = event_target_value(&ev);
                        s.update_run(id, |r| r.name = name);
                    }
                />
                <input class="notes" type="text" placeholder="notes" aria-label="Notes" prop:value=r.notes readonly=r.shared
                    on:change=move |ev| {
                        let notes = event_target_value(&ev);
                        s.update_run(id, |r| r.notes = notes);
                    }
                />
            </td>
            <td>{r.what}</td>
            <td title=r.status_reason data-testid="run-status">{r.status}{if r.shared { " (shared)" } else { "" }}</td>
            <td data-testid="run-accuracy">{r.accuracy}</td>
            <td data-testid="run-epochs" data-epochs=r.epochs_done>{r.epochs}</td>
            <td>{r.seconds}</td>
            <td class="when">{started}</td>
            <td class="actions">
                {r.shared.then(|| view! {
                    <button data-testid="reproduce" on:click=move |_| s.reproduce(id) disabled=move || s.run.busy()>"Reproduce"</button>
                })}
                <button data-testid="share" on:click=move |_| share(id)>"Share"</button>
                <button data-testid="run-natively" title="Copy the command that trains this run natively (kindling train --link)" on:click=move |_| run_natively(id)>"Run natively"</button>
                {r.has_weights.then(|| view! {
                    <button data-testid="use-model" title="Use this run's model for the drawing and the review box" on:click=move |_| s.use_stored_model(id)>"Use"</button>
                    <button data-testid="export-weights" title="Download the model (.bpk: weights and run)" on:click=move |_| s.export_model(id)>"Model ↓"</button>
                    <ExportMenu id />
                })}
                <button data-testid="delete-run" aria-label="Delete run" on:click=move |_| delete(id)>"Delete"</button>
            </td>
        </tr>
    }
}

/// The run's exports to take elsewhere, folded into one menu: a PyTorch or Keras 3 zip (script,
/// weights, data file) and the bare safetensors weights.
#[component]
fn ExportMenu(id: u64) -> impl IntoView {
    let s = use_session();
    let item = move |format: ExportFormat, testid: &'static str, title: &'static str| {
        view! {
            <button data-testid=testid title=title on:click=move |ev| {
                close_menu(&ev);
                s.export_run(id, format);
            }>{format!("{} ↓", format.label())}</button>
        }
    };
    view! {
        <details class="export-menu">
            <summary data-testid="export-menu" title="Take this run to PyTorch or Keras">"Export"</summary>
            <div class="export-items">
                {item(ExportFormat::Framework(Framework::PyTorch), "export-pytorch", "A zip: a PyTorch script that rebuilds this model, loads its weights, evaluates the test set and can retrain it")}
                {item(ExportFormat::Framework(Framework::Keras), "export-keras", "A zip: the same as a Keras 3 script")}
                {item(ExportFormat::Safetensors, "export-safetensors", "The weights alone, as safetensors with PyTorch's names and layouts")}
            </div>
        </details>
    }
}

/// Closes the `<details>` menu that holds the clicked item.
fn close_menu(ev: &leptos::ev::MouseEvent) {
    let details = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| e.closest("details").ok().flatten());
    if let Some(details) = details {
        let _ = details.remove_attribute("open");
    }
}
