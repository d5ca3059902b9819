//! The test report after a run: accuracy, confusion matrix, misclassified examples. A click
//! on a cell of the matrix shows that cell's test images with the model's confidence; a
//! click on one of them opens its layers beside the drawing pad.

use leptos::prelude::*;

use kindling_core::train::score::format_figure;
use kindling_core::DatasetConfig;

use crate::protocol::ToWorker;
use crate::session::{use_current_run, use_session};

use super::thousands;

use super::ImageTile;

/// Confusion matrix, per-class accuracy and mistakes after a run.
/// Whether a model of `dataset` reads one of its images layer by layer (square grey images:
/// MNIST's, tinyMNIST's, an uploaded idx set's).
pub(super) fn reads_images(dataset: &DatasetConfig) -> bool {
    dataset.square_image_side().is_some()
}

#[component]
pub(super) fn Report() -> impl IntoView {
    let run = use_current_run();
    let s = use_session();
    // A cell's images come from the run's model in the worker, on demand.
    let ask_cell = move |truth: u32, predicted: u32| {
        s.worker.send(&ToWorker::CellExamples { truth, predicted });
    };
    view! {
        {move || {
            run.report.get().map(|r| {
                let names = r.class_names.clone();
                let classes = r.confusion.len();
                let others = r.matrix_others;
                let hidden = names.len().saturating_sub(r.matrix_classes.len());
                // The name of the matrix's row (and column) `i`.
                let row_names: Vec<String> = (0..classes)
                    .map(|i| match r.matrix_classes.get(i) {
                        Some(&c) => names.get(c as usize).cloned().unwrap_or_default(),
                        None => format!("{hidden} others"),
                    })
                    .collect();
                let max = r.confusion.iter().flatten().copied().max().unwrap_or(1).max(1);
                // Image sets whose test images the drawing pad's model reads.
                let images = run.config.with_untracked(|c| c.as_ref().is_some_and(|c| reads_images(&c.dataset)));
                // A regression set's report is its R²: no classes to confuse.
                let regression = run.regression_untracked();
                let heading = if regression {
                    format!("Test set: R² {} over {} examples", format_figure(r.accuracy, true), thousands(r.examples as f64))
                } else {
                    format!("Test set: {:.2}% of {} examples", r.accuracy * 100.0, thousands(r.examples as f64))
                };
                view! {
                    <div class="report" data-testid="test-report" data-panel="report" data-accuracy=format!("{:.6}", r.accuracy)>
                        <h3>{heading}</h3>
                        <div class="confusion-wrap" class:hidden=regression>
                            <table class="confusion" data-testid="confusion-matrix">
                                <caption>
                                    "rows: true class · columns: predicted"
                                    {others.then(|| format!(
                                        " · the {} most frequent of {} classes, the others together",
                                        classes - 1,
                                        names.len()
                                    ))}
                                </caption>
                                <thead>
                                    <tr>
                                        <th></th>
                                        {row_names.iter().map(|n| view! { <th>{n.clone()}</th> }).collect_view()}
                                        <th>"acc"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {r.confusion
                                        .iter()
                                        .enumerate()
                                        .map(|(i, row)| {
                                            let total: usize = row.iter().sum();
                                            let acc = if total > 0 { row[i] as f64 / total as f64 } else { 0.0 };
                                            // The others' row has no single right answer.
                                            let acc = if others && i + 1 == classes {
                                                "–".to_string()
                                            } else {
                                                format!("{:.1}%", acc * 100.0)
                                            };
                                            view! {
                                                <tr>
                                                    <th>{row_names[i].clone()}</th>
                                                    {row.iter().enumerate().map(|(j, &n)| {
                                                        let alpha = n as f64 / max as f64;
                                                        let class = if i == j { "diag" } else { "off" };
                                                        // A cell of two shown classes (not the others') of
                                                        // an image set the drawing pad's model reads.
                                                        let pair = r.matrix_classes.get(i).copied().zip(r.matrix_classes.get(j).copied()).filter(|_| images && n > 0);
                                                        let selected = move || pair.is_some_and(|(t, p)| {
                                                            run.cell.with(|c| c.as_ref().is_some_and(|c| c.truth == t && c.predicted == p))
                                                        });
                                                        view! {
                                                            <td
                                                                class=class
                                                                class:selected=selected
                                                                class:clickable=pair.is_some()
                                                                style=format!("--w:{alpha:.3}")
                                                                data-testid="matrix-cell"
                                                                data-true=pair.map(|p| p.0)
                                                                data-predicted=pair.map(|p| p.1)
                                                                title=pair.map(|_| "Show these test images")
                                                                on:click=move |_| {
                                                                    if let Some((t, p)) = pair {
                                                                        ask_cell(t, p);
                                                                    }
                                                                }
                                                            >{n}</td>
                                                        }
                                                    }).collect_view()}
                                                    <td class="acc">{acc}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <CellGallery names=names.clone() />
                        <Show when={let n = r.wrong_images.len(); move || n > 0 && run.cell.with(Option::is_none)}>
                            <h4>"Misclassified test images (true → predicted); click a cell of the matrix for its images"</h4>
                        </Show>
                        <div class="tiles" data-testid="mistakes" class:hidden=move || run.cell.with(Option::is_some)>
                            {r.wrong_images
                                .iter()
                                .map(|img| {
                                    let t = names.get(img.label as usize).cloned().unwrap_or_default();
                                    let p = img
                                        .predicted
                                        .and_then(|p| names.get(p as usize).cloned())
                                        .unwrap_or_default();
                                    view! { <ImageTile image=img.clone() caption=format!("{t} → {p}") opens_layers=images /> }
                                })
                                .collect_view()}
                        </div>
                        <ul class="reviews">
                            {r.wrong_reviews
                                .iter()
                                .map(|rv| view! {
                                    <li>
                                        <b>{if rv.label == 1 { "positive → negative" } else { "negative → positive" }}</b>
                                        " · "
                                        <crate::components::word_trace::ClickableReview text=rv.text.clone() limit=240 />
                                    </li>
                                })
                                .collect_view()}
                        </ul>
                    </div>
                }
            })
        }}
    }
}

/// The test images of the clicked cell, with the model's confidence; a click on one opens
/// its layers (and its prediction) beside the drawing pad.
#[component]
fn CellGallery(names: Vec<String>) -> impl IntoView {
    let run = use_current_run();
    let s = use_session();
    view! {
        {move || {
            run.cell.get().map(|cell| {
                let name = |c: u32| names.get(c as usize).cloned().unwrap_or_else(|| c.to_string());
                let (t, p) = (name(cell.truth), name(cell.predicted));
                let heading = format!(
                    "True {t}, predicted {p}: {} of {} test images{}",
                    cell.images.len(),
                    cell.total,
                    if cell.truth == cell.predicted { " (right)" } else { "" }
                );
                view! {
                    <h4 data-testid="cell-heading">
                        {heading}
                        <button class="icon" aria-label="Back to all mistakes" on:click=move |_| run.cell.set(None)>"×"</button>
                    </h4>
                    <div class="tiles" data-testid="cell-examples">
                        {cell.images
                            .into_iter()
                            .map(|(image, confidence)| {
                                let caption = format!("{t} → {p} · {:.0}%", confidence * 100.0);
                                let shown = image.clone();
                                let (truth, predicted) = (image.label, image.predicted.unwrap_or(image.label));
                                view! {
                                    <div
                                        class="clickable"
                                        data-testid="cell-example"
                                        data-true=truth
                                        data-predicted=predicted
                                        data-confidence=format!("{confidence:.4}")
                                        title="Open its layers beside the drawing pad"
                                        on:click=move |_| super::data_view::open_layers(s, &shown)
                                    >
                                        <ImageTile image=image caption=caption />
                                    </div>
                                }
                            })
                            .collect_view()}
                    </div>
                }
            })
        }}
    }
}
