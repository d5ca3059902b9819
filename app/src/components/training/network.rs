//! The network view of an MLP run, as TensorFlow Playground draws one: the inputs, every hidden
//! unit and the outputs in columns, edges coloured by the weight's sign (blue positive, orange
//! negative) and drawn thicker with its size; on 2-D data each unit shows its output over the
//! input plane, and pointing at a unit shows that map large in the boundary panel. Wide layers
//! show [`SHOWN_UNITS`] units at a time, with a control that pages through the rest.
//!
//! The worker computes the view (`FromWorker::Network`) at a throttled rate; this only draws.

use kindling_core::inside::NetworkView;
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts::paint_shades;
use crate::network_view::{
    distance_to_segment, shades_of, unit_name, view_unit_name, Column, Layout, LARGE, SHOWN_UNITS,
};
use crate::session::use_current_run;

/// Width of the edges' canvas (stretched to the panel's width; units are placed in percent).
const PLOT_WIDTH: f64 = 460.0;
/// How close (canvas pixels) the pointer must be to an edge to read its weight.
const EDGE_REACH: f64 = 5.0;

/// An edge as drawn, for reading its weight under the pointer.
#[derive(Clone, Debug)]
struct EdgeLine {
    from: (f64, f64),
    to: (f64, f64),
    /// Column of its input unit, its input unit and its output unit.
    column: usize,
    input: usize,
    unit: usize,
    weight: f32,
}

impl EdgeLine {
    /// "weight x1·x2 → h1.3: +0.1234" (`names`: the inputs' names, when they have some).
    fn text(&self, layers: usize, names: &[String]) -> String {
        let from = match names.get(self.input) {
            Some(name) if self.column == 0 => name.clone(),
            _ => unit_name(self.column, self.input, layers),
        };
        format!(
            "weight {from} → {}: {:+.4}",
            unit_name(self.column + 1, self.unit, layers),
            self.weight
        )
    }
}

/// Strength levels edges are drawn at: edges of one sign and level share one path (one
/// stroke), since a stroke per edge made a 2-16-16-2 network's 320 edges a 50 ms task.
const EDGE_LEVELS: usize = 8;

/// Draws the shown edges of `view` and returns them for hit-testing.
fn draw_edges(
    canvas: &web_sys::HtmlCanvasElement,
    view: &NetworkView,
    layout: &Layout,
) -> Vec<EdgeLine> {
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return Vec::new();
    };
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    ctx.clear_rect(0.0, 0.0, w, h);
    let mut lines = Vec::new();
    // Per sign and strength level, the edges drawn in it.
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); 2 * EDGE_LEVELS];
    // Centre to centre: the units' boxes, drawn over the canvas, hide the ends (reading the
    // canvas's size here to stop at their edges would force a layout of the whole page).
    for (l, layer) in view.layers.iter().enumerate() {
        if layer.weights.len() != layer.inputs * layer.units {
            continue;
        }
        let (from, to) = (layout.columns[l], layout.columns[l + 1]);
        let largest = from
            .shown()
            .flat_map(|i| to.shown().map(move |j| (i, j)))
            .map(|(i, j)| layer.weights[i * layer.units + j].abs())
            .fold(0.0f32, f32::max)
            .max(1e-6);
        for i in from.shown() {
            for j in to.shown() {
                let weight = layer.weights[i * layer.units + j];
                let level = ((weight.abs() / largest) * (EDGE_LEVELS - 1) as f32).round() as usize;
                let sign = usize::from(weight < 0.0);
                buckets[sign * EDGE_LEVELS + level.min(EDGE_LEVELS - 1)].push(lines.len());
                lines.push(EdgeLine {
                    from: (layout.x(l) * w, layout.y(l, i)),
                    to: (layout.x(l + 1) * w, layout.y(l + 1, j)),
                    column: l,
                    input: i,
                    unit: j,
                    weight,
                });
            }
        }
    }
    for (bucket, members) in buckets.iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        let strength = (bucket % EDGE_LEVELS) as f64 / (EDGE_LEVELS - 1) as f64;
        ctx.set_stroke_style_str(if bucket < EDGE_LEVELS {
            "rgb(8, 119, 189)"
        } else {
            "rgb(245, 147, 34)"
        });
        ctx.set_global_alpha(0.15 + 0.7 * strength);
        ctx.set_line_width(0.5 + 3.5 * strength);
        ctx.begin_path();
        for &e in members {
            let line = &lines[e];
            ctx.move_to(line.from.0, line.from.1);
            ctx.line_to(line.to.0, line.to.1);
        }
        ctx.stroke();
    }
    ctx.set_global_alpha(1.0);
    lines
}

/// The network view.
#[component]
pub(super) fn NetworkPanel() -> impl IntoView {
    let run = use_current_run();
    // The first unit shown of each column (paged by "+k more").
    let firsts = RwSignal::new(Vec::<usize>::new());
    let sizes = Memo::new(move |_| {
        run.network.with(|n| {
            n.as_ref()
                .map(|n| {
                    std::iter::once(n.inputs)
                        .chain(n.layers.iter().map(|l| l.units))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let layout = Memo::new(move |_| {
        let sizes = sizes.get();
        let firsts = firsts.get();
        let columns: Vec<Column> = sizes
            .iter()
            .enumerate()
            .map(|(c, &units)| Column {
                units,
                first: firsts
                    .get(c)
                    .copied()
                    .unwrap_or(0)
                    .min(units.saturating_sub(1)),
            })
            .collect();
        let rows = columns
            .iter()
            .map(|c| c.shown().len())
            .max()
            .unwrap_or(1)
            .max(1);
        Layout { columns, rows }
    });
    let edges_canvas: NodeRef<Canvas> = NodeRef::new();
    let edges = StoredValue::new(Vec::<EdgeLine>::new());
    let edge_text = RwSignal::new(None::<String>);
    // Each drawing runs in a task of its own (the units' too), so that no update of the view
    // holds the page's thread for long.
    Effect::new(move |_| {
        let layout = layout.get();
        run.network.track();
        crate::tasks::in_own_task("network edges", move || {
            run.network.with_untracked(|view| {
                // The panel may be gone by now (a new run): then there is nothing to draw.
                let canvas = edges_canvas.try_get_untracked().flatten();
                if let (Some(view), Some(canvas)) = (view, canvas) {
                    let _ = edges.try_set_value(draw_edges(&canvas, view, &layout));
                }
            })
        });
    });
    // The columns appear one per task when the network's structure changes (its first view, a
    // new model): creating dozens of units, each with its canvas and handlers, in the task that
    // handles the first view took 50-75 ms.
    let shown_columns = RwSignal::new(0usize);
    let reveal = StoredValue::new(0u64);
    Effect::new(move |_| {
        let columns = sizes.with(Vec::len);
        let generation = reveal.get_value() + 1;
        reveal.set_value(generation);
        shown_columns.set(0);
        reveal_columns(shown_columns, reveal, generation, columns);
    });
    let layers_now = move || sizes.with_untracked(|s| s.len().saturating_sub(1));
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some(canvas) = edges_canvas.get_untracked() else {
            return;
        };
        let rect = canvas.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let p = (
            (ev.client_x() as f64 - rect.left()) * PLOT_WIDTH / rect.width(),
            ev.client_y() as f64 - rect.top(),
        );
        let nearest = edges.with_value(|lines| {
            lines
                .iter()
                .map(|l| (distance_to_segment(p, l.from, l.to), l))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .filter(|(d, _)| *d <= EDGE_REACH)
                .map(|(_, l)| {
                    let names = run
                        .network
                        .with_untracked(|v| v.as_ref().map(|v| v.input_names.clone()))
                        .unwrap_or_default();
                    l.text(layers_now(), &names)
                })
        });
        if nearest.is_some() {
            edge_text.set(nearest);
        }
    };
    let page = move |c: usize| {
        firsts.update(|f| {
            let columns = layout.get_untracked().columns;
            f.resize(columns.len(), 0);
            let next = columns[c].first + SHOWN_UNITS;
            f[c] = if next >= columns[c].units { 0 } else { next };
        })
    };
    view! {
        <figure class="network" data-testid="network" data-panel="network">
            <div
                class="network-plot"
                style:height=move || format!("{}px", layout.get().height())
                on:mousemove=on_move
            >
                <canvas
                    node_ref=edges_canvas
                    class="edges"
                    width=PLOT_WIDTH
                    height=move || layout.get().height()
                ></canvas>
                // Columns appear one per task (see `shown_columns`); each follows the layout.
                <For each=move || 0..shown_columns.get() key=|c| *c let:c>
                    {move || layout.with(|layout| column_view(layout, c, page))}
                </For>
            </div>
            <figcaption>
                <span data-testid="edge-weight">
                    {move || {
                        edge_text
                            .get()
                            .unwrap_or_else(|| {
                                "Point at an edge for its weight (blue positive, orange negative), at a unit for its map and bias.".into()
                            })
                    }}
                </span>
                {move || {
                    let unshown: Vec<String> = run.network.with(|n| {
                        n.as_ref()
                            .map(|n| {
                                n.layers
                                    .iter()
                                    .enumerate()
                                    .filter(|(_, l)| l.weights.is_empty())
                                    .map(|(i, l)| {
                                        format!(
                                            "layer {} ({} weights)",
                                            i + 1,
                                            crate::network_view::thousands(l.inputs * l.units)
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default()
                    });
                    (!unshown.is_empty()).then(|| {
                        view! {
                            <span class="edges-left-out" data-testid="edges-left-out">
                                {format!(
                                    " The edges into {} are too many to draw live.",
                                    unshown.join(", ")
                                )}
                            </span>
                        }
                    })
                }}
            </figcaption>
        </figure>
    }
}

/// Shows one more of `columns` columns per task, until all are, unless the structure changed
/// since (`reveal` moved past `generation`).
fn reveal_columns(
    shown: RwSignal<usize>,
    reveal: StoredValue<u64>,
    generation: u64,
    columns: usize,
) {
    crate::tasks::in_own_task("network column", move || {
        if reveal.try_get_value() != Some(generation) {
            return;
        }
        let Some(now) = shown.try_get_untracked() else {
            return;
        };
        if now < columns {
            shown.set(now + 1);
            reveal_columns(shown, reveal, generation, columns);
        }
    });
}

/// Column `c` of `layout`: its title, its shown units and the control that pages through the
/// rest (`page`); nothing when the layout has no such column.
fn column_view(layout: &Layout, c: usize, page: impl Fn(usize) + Copy + 'static) -> AnyView {
    let Some(&column) = layout.columns.get(c) else {
        return ().into_any();
    };
    let layers = layout.columns.len().saturating_sub(1);
    let x = layout.x(c);
    let title = match c {
        0 => "inputs".to_string(),
        c if c == layers => "outputs".to_string(),
        c => format!("layer {c}"),
    };
    let units = column
        .shown()
        .map(|u| {
            let y = layout.y(c, u);
            let side = layout.sizes().0;
            view! { <Neuron layer=c unit=u x=x y=y side=side layers=layers /> }
        })
        .collect_view();
    let rest = column.units - column.shown().len();
    let more = (rest > 0).then(|| {
        let shown = column.shown();
        view! {
            <button
                class="more-units"
                data-testid="more-units"
                style:left=format!("{:.2}%", x * 100.0)
                title=format!(
                    "units {}–{} of {} shown: show the next",
                    shown.start + 1,
                    shown.end,
                    column.units
                )
                on:click=move |_| page(c)
            >
                {format!("+{rest} more")}
            </button>
        }
    });
    view! {
        <span class="column-title" style:left=format!("{:.2}%", x * 100.0)>
            {title}
        </span>
        {units}
        {more}
    }
    .into_any()
}

/// One unit: its map over the input plane on 2-D data (else its bias as a colour); pointing
/// at it (or tapping it) shows the map large in the boundary panel.
#[component]
fn Neuron(layer: usize, unit: usize, x: f64, y: f64, side: f64, layers: usize) -> impl IntoView {
    let run = use_current_run();
    let canvas: NodeRef<Canvas> = NodeRef::new();
    // A checksum of the map (or bias), so that a change can be seen from outside.
    let fingerprint = RwSignal::new(0u64);
    Effect::new(move |_| {
        run.network.track();
        crate::tasks::in_own_task("neuron map", move || {
            run.network.with_untracked(|view| {
                // The unit may be gone by now (a new run, a page of the layer turned).
                let canvas = canvas.try_get_untracked().flatten();
                let (Some(view), Some(canvas)) = (view, canvas) else {
                    return;
                };
                let (shades, n) = shades_of(view, layer, unit);
                if fingerprint
                    .try_set(shades.iter().fold(0u64, |h, &s| {
                        h.wrapping_mul(31).wrapping_add((s * 1e4) as u64)
                    }))
                    .is_some()
                {
                    return;
                }
                paint_shades(&canvas, &shades, n);
            })
        });
    });
    // Built when pointed at, not at every update of the view (dozens of units).
    let title = move || {
        run.network.with_untracked(|view| {
            let Some(view) = view else {
                return String::new();
            };
            let name = view_unit_name(view, layer, unit);
            if layer == 0 {
                return format!("{name}: input feature {}", unit + 1);
            }
            let l = &view.layers[layer - 1];
            let range = view
                .maps
                .as_ref()
                .and_then(|m| m.layers.get(layer - 1)?.get(unit))
                .map(|m| format!(" · output {:.3} to {:.3} over the plane", m.low, m.high))
                .unwrap_or_default();
            format!(
                "{name} · {} · bias {:+.4}{range}",
                l.activation,
                l.biases.get(unit).copied().unwrap_or(0.0)
            )
        })
    };
    let focus = (layer > 0).then_some((layer, unit));
    view! {
        <div
            class="neuron"
            class:input=layer == 0
            class:focused=move || focus.is_some() && run.focus.get() == focus
            class:compact=side < LARGE.0
            data-testid=if layer == 0 { "network-input" } else { "neuron" }
            data-layer=layer
            data-unit=unit
            data-map=move || fingerprint.get()
            style:left=format!("calc({:.2}% - {}px)", x * 100.0, side / 2.0)
            style:top=format!("{}px", y - side / 2.0)
            style:width=format!("{side}px")
            style:height=format!("{side}px")
            on:mouseenter=move |ev| {
                if let Some(el) = ev
                    .current_target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                {
                    let _ = el.set_attribute("title", &title());
                }
                if focus.is_some() {
                    run.focus.set(focus)
                }
            }
            on:mouseleave=move |_| run.focus.set(None)
            on:click=move |_| {
                if focus.is_some() {
                    run.focus.update(|f| *f = if *f == focus { None } else { focus })
                }
            }
        >
            <canvas node_ref=canvas width="1" height="1"></canvas>
            <span class="unit-name">
                {run.network.with_untracked(|v| match v {
                    Some(v) => view_unit_name(v, layer, unit),
                    None => unit_name(layer, unit, layers),
                })}
            </span>
        </div>
    }
}
