//! Form fields bound to a part of the session's [`RunConfig`]: a getter and a setter each.

use kindling_core::RunConfig;
use leptos::prelude::*;

use crate::session::{use_builder, use_messages};

/// Formats a number for an input: integers without decimals, others compactly.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v}");
        if s.len() > 12 {
            format!("{v:e}")
        } else {
            s
        }
    }
}

/// A labelled number input bound to the config.
pub fn number_field(
    label: &'static str,
    testid: &'static str,
    step: &'static str,
    get: impl Fn(&RunConfig) -> f64 + Copy + Send + Sync + 'static,
    set: impl Fn(&mut RunConfig, f64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let builder = use_builder();
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="number"
                step=step
                data-testid=testid
                prop:value=move || format_number(builder.config.with(get))
                on:change=move |ev| {
                    let text = event_target_value(&ev);
                    match text.trim().parse::<f64>() {
                        Ok(v) if v.is_finite() => {
                            builder.edit(|c| set(c, v));
                        }
                        _ => {
                            // Not a number: show the current value again.
                            builder.config.update(|_| {});
                        }
                    }
                }
            />
        </label>
    }
}

/// A labelled select bound to the config; `options` are (value, label).
pub fn select_field(
    label: &'static str,
    testid: &'static str,
    options: Vec<(String, String)>,
    get: impl Fn(&RunConfig) -> String + Copy + Send + Sync + 'static,
    set: impl Fn(&mut RunConfig, &str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let builder = use_builder();
    view! {
        <label class="field">
            <span>{label}</span>
            <select
                data-testid=testid
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    builder.edit(|c| set(c, &value));
                }
            >
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let v = value.clone();
                        view! {
                            <option value=value selected=move || builder.config.with(get) == v>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// A small number input for a row of a table (a layer's setting).
pub fn cell_number(
    value: f64,
    title: &'static str,
    step: &'static str,
    set: impl Fn(&mut RunConfig, f64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let builder = use_builder();
    view! {
        <input
            class="cell"
            type="number"
            step=step
            title=title
            aria-label=title
            prop:value=format_number(value)
            on:change=move |ev| {
                if let Ok(v) = event_target_value(&ev).trim().parse::<f64>() {
                    if v.is_finite() {
                        builder.edit(|c| set(c, v));
                    }
                }
            }
        />
    }
}

/// A small select for a row of a table.
pub fn cell_select(
    current: String,
    title: &'static str,
    options: Vec<(String, String)>,
    set: impl Fn(&mut RunConfig, &str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let builder = use_builder();
    view! {
        <select
            class="cell"
            title=title
            aria-label=title
            on:change=move |ev| {
                let value = event_target_value(&ev);
                builder.edit(|c| set(c, &value));
            }
        >
            {options
                .into_iter()
                .map(|(value, text)| {
                    let selected = value == current;
                    view! { <option value=value selected=selected>{text}</option> }
                })
                .collect_view()}
        </select>
    }
}

/// A button that opens the file chooser (a label around a visually hidden file input, so the
/// keyboard reaches it); `on_files` gets the chosen files' names and bytes, and a failed read
/// shows as the page's error.
pub fn file_button(
    label: &'static str,
    title: &'static str,
    accept: &'static str,
    multiple: bool,
    testid: &'static str,
    on_files: impl Fn(Vec<(String, Vec<u8>)>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let messages = use_messages();
    view! {
        <label class="button file-button" title=title>
            {label}
            <input
                type="file"
                multiple=multiple
                accept=accept
                class="sr-only"
                data-testid=testid
                on:change=move |ev| {
                    let input: web_sys::HtmlInputElement = event_target(&ev);
                    wasm_bindgen_futures::spawn_local(async move {
                        match crate::files::read_chosen_files(&input).await {
                            Some(Ok(files)) => on_files(files),
                            Some(Err(e)) => messages.error.set(Some(e)),
                            None => {}
                        }
                    });
                }
            />
        </label>
    }
}
