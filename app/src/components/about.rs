//! The footer's "About and limits": what Kindling is, and every limit it holds input to
//! (from core's list, the same one the README shows), so a refusal can be looked up.

use kindling_core::limits::limits;
use leptos::prelude::*;

/// The footer: a line about Kindling and, folded, the limits.
#[component]
pub fn About() -> impl IntoView {
    view! {
        <footer class="foot">
            <p>"Kindling · burn + leptos, compiled to WebAssembly · data never leaves this browser"</p>
            <details class="about">
                <summary>"About and limits"</summary>
                <p class="hint">
                    "Every run trains in this tab (a Web Worker) and is kept in this browser. \
                     Settings, uploads and links are checked against these limits, on every \
                     device, before anything is built; a refusal names the limit."
                </p>
                <table class="limits" data-testid="limits">
                    <thead>
                        <tr><th>"Area"</th><th>"Limit"</th><th>"Value"</th></tr>
                    </thead>
                    <tbody>
                        {limits()
                            .into_iter()
                            .map(|l| view! {
                                <tr><td>{l.area}</td><td>{l.what}</td><td class="num">{l.value}</td></tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </details>
        </footer>
    }
}
