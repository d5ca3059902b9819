//! The test report after a run: accuracy, confusion matrix, misclassified examples.

use leptos::prelude::*;

use crate::session::use_current_run;

use super::thousands;

use super::ImageTile;

/// Confusion matrix, per-class accuracy and mistakes after a run.
#[component]
pub(super) fn Report() -> impl IntoView {
    let run = use_current_run();
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
                view! {
                    <div class="report" data-testid="test-report" data-accuracy=format!("{:.6}", r.accuracy)>
                        <h3>{format!("Test set: {:.2}% of {} examples", r.accuracy * 100.0, thousands(r.examples as f64))}</h3>
                        <div class="confusion-wrap">
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
                                                        view! {
                                                            <td class=class style=format!("--w:{alpha:.3}")>{n}</td>
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
                        <Show when={let n = r.wrong_images.len(); move || n > 0}>
                            <h4>"Misclassified test images (true → predicted)"</h4>
                        </Show>
                        <div class="tiles" data-testid="mistakes">
                            {r.wrong_images
                                .iter()
                                .map(|img| {
                                    let t = names.get(img.label as usize).cloned().unwrap_or_default();
                                    let p = img
                                        .predicted
                                        .and_then(|p| names.get(p as usize).cloned())
                                        .unwrap_or_default();
                                    view! { <ImageTile image=img.clone() caption=format!("{t} → {p}") /> }
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
                                        <span class="review-text">{rv.text.chars().take(240).collect::<String>()}</span>
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
