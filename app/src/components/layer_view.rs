//! The layers of one image (#17): for the drawn digit, what every layer of the model computes,
//! in order (a CNN's feature maps as small images with the layer's shape, dense layers as
//! bars), and the first convolution's filters; updated as the strokes go. The worker computes
//! them with each prediction; the page only paints levels into canvases.

use kindling_core::inside::{ImageLayers, LayerLevels};
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::charts::{paint_grey, paint_levels_bars, paint_shades};
use crate::session::use_predictions;

/// The panel's structure: each layer's name and shape, and the filters' shape.
type Structure = (Vec<(String, Vec<usize>)>, Option<Vec<usize>>);

/// The layers' names and shapes: the panel's structure, rebuilt only when the model changes
/// (the levels change with every stroke).
fn structure(layers: &ImageLayers) -> Structure {
    (
        layers
            .layers
            .iter()
            .map(|l| (l.name.clone(), l.shape.clone()))
            .collect(),
        layers.filters.as_ref().map(|f| f.shape.clone()),
    )
}

/// "32 × 24 × 24" of a shape.
fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" × ")
}

/// Filter weights as diverging shades (0.5 for zero), from their levels.
fn filter_shades(meta: &LayerLevels, levels: &[u8]) -> Vec<f32> {
    let span = meta.high - meta.low;
    let largest = meta.low.abs().max(meta.high.abs()).max(1e-12);
    levels
        .iter()
        .map(|&l| {
            let v = meta.low + f32::from(l) / 255.0 * span;
            0.5 + 0.5 * v / largest
        })
        .collect()
}

/// One layer: its feature maps (or bars), repainted when the levels change.
#[component]
fn LayerMaps(index: usize, name: String, shape: Vec<usize>, filters: bool) -> impl IntoView {
    let predictions = use_predictions();
    let maps = if shape.len() == 3 { shape[0] } else { 1 };
    let canvases: Vec<NodeRef<Canvas>> = (0..maps).map(|_| NodeRef::new()).collect();
    let refs = canvases.clone();
    let dims = shape.clone();
    // A checksum of the levels last painted: the filters, fixed once trained, are painted once.
    let painted = StoredValue::new(0u64);
    // Each layer paints in a task of its own: a prediction's hundreds of small canvases never
    // hold the page's thread together.
    Effect::new(move |_| {
        predictions.digit.track();
        let (refs, dims) = (refs.clone(), dims.clone());
        crate::tasks::in_own_task("layer maps", move || {
            predictions.digit.with_untracked(|d| {
                let Some(layers) = d.as_ref().and_then(|d| d.layers.as_ref()) else {
                    return;
                };
                let levels = layers.levels_of(index);
                let sum = levels.iter().fold(levels.len() as u64, |h, &l| {
                    h.wrapping_mul(31).wrapping_add(u64::from(l))
                });
                if painted.try_get_value() == Some(sum) {
                    return;
                }
                let canvas = |k: usize| refs.get(k).and_then(|r| r.try_get_untracked().flatten());
                let mut drawn = false;
                match dims[..] {
                    [_, h, w] => {
                        let meta = if filters {
                            layers.filters.as_ref()
                        } else {
                            layers.layers.get(index)
                        };
                        for k in 0..refs.len() {
                            let (Some(c), Some(map)) =
                                (canvas(k), levels.get(k * h * w..(k + 1) * h * w))
                            else {
                                continue;
                            };
                            match (filters, meta) {
                                (true, Some(meta)) if h == w => {
                                    paint_shades(&c, &filter_shades(meta, map), h)
                                }
                                _ => paint_grey(&c, map, w, h),
                            }
                            drawn = true;
                        }
                    }
                    _ => {
                        if let Some(c) = canvas(0) {
                            paint_levels_bars(&c, levels);
                            drawn = true;
                        }
                    }
                }
                if drawn {
                    painted.try_set_value(sum);
                }
            })
        });
    });
    let caption = format!(
        "{name} · {}",
        if filters {
            format!("{} filters of {}", shape[0], shape_text(&shape[1..]))
        } else {
            shape_text(&shape)
        }
    );
    let tiles = if shape.len() == 3 {
        let (testid, layer) = if filters {
            ("filter", "filters".to_string())
        } else {
            ("feature-map", index.to_string())
        };
        canvases
            .into_iter()
            .enumerate()
            .map(|(k, node)| {
                view! {
                    <canvas
                        node_ref=node
                        class="map"
                        width=shape[2].to_string()
                        height=shape[1].to_string()
                        data-testid=testid
                        data-layer=layer.clone()
                        data-map=k
                        title=format!("{} {}", if filters { "filter" } else { "map" }, k + 1)
                    ></canvas>
                }
            })
            .collect_view()
            .into_any()
    } else {
        let node = canvases[0];
        view! {
            <canvas
                node_ref=node
                class="bars"
                width=shape[0].clamp(1, 1000).to_string()
                height="40"
                data-testid="layer-bars"
                data-layer=index.to_string()
                title="each unit's output, one bar each"
            ></canvas>
        }
        .into_any()
    };
    view! {
        <div class="layer-maps">
            <div class="layer-name">{caption}</div>
            <div class="maps" class:wide=shape.len() == 1>{tiles}</div>
        </div>
    }
}

/// Every layer of the model for the drawn digit, then the first filters.
#[component]
pub fn LayerView() -> impl IntoView {
    let predictions = use_predictions();
    let shown = Memo::new(move |_| {
        predictions
            .digit
            .with(|d| d.as_ref().and_then(|d| d.layers.as_ref()).map(structure))
    });
    view! {
        {move || {
            shown.get().map(|(layers, filters)| {
                let count = layers.len();
                view! {
                    <details class="layer-view" data-testid="layer-view" data-panel="filters" open=true>
                        <summary>"Layers of this digit"</summary>
                        <p class="hint">"What each layer computes for your drawing, in order (bright: large output), then the first layer's filters (blue positive, orange negative)."</p>
                        {layers
                            .into_iter()
                            .enumerate()
                            .map(|(index, (name, shape))| {
                                view! { <LayerMaps index=index name=name shape=shape filters=false /> }
                            })
                            .collect_view()}
                        {filters.map(|shape| view! {
                            <LayerMaps index=count name="conv2d_1".to_string() shape=shape filters=true />
                        })}
                    </details>
                }
            })
        }}
    }
}
