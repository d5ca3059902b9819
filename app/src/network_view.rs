//! The network view's logic (plain Rust, tested natively; `components::training::network`
//! draws it): where each column and unit goes, which units a wide layer shows, units' names,
//! and what each unit's box shows (its map over the input plane as shades, or its bias).

use kindling_core::inside::{NetworkView, UnitMap};

use crate::protocol::BoundaryMap;

/// Margins of the plot: room above the first row (column titles) and below the last (the
/// paging controls), in CSS pixels.
pub const MARGIN_TOP: f64 = 26.0;
/// See [`MARGIN_TOP`].
pub const MARGIN_BOTTOM: f64 = 30.0;
/// Horizontal room at each side, as a fraction of the width.
pub const SIDE: f64 = 0.06;

/// `n` with thousands separated by commas (200,704).
pub fn thousands(n: usize) -> String {
    kindling_core::model::summary::thousands(n as u64)
}

/// A unit's map as shades in [0, 1] (0 orange, 1 blue, as the decision boundary is drawn):
/// outputs that are probabilities (sigmoid, softmax) as they are; others around 0, orange
/// negative and blue positive, scaled by the largest |value| of the map.
pub fn unit_shades(map: &UnitMap, probability: bool) -> Vec<f32> {
    let values = (0..map.cells.len()).map(|i| map.value(i));
    if probability {
        values.collect()
    } else {
        let scale = map.low.abs().max(map.high.abs()).max(1e-6);
        values.map(|v| 0.5 + 0.5 * v / scale).collect()
    }
}

/// Units of a layer drawn at once; a wider layer pages through the rest.
pub const SHOWN_UNITS: usize = 16;
/// Columns of at most this many units get large boxes with names under them; taller ones get
/// compact boxes (their names are in their tooltips).
pub const LARGE_UNITS: usize = 8;
/// Side of a unit's box and vertical distance between two units' centres, in CSS pixels:
/// large, then compact.
pub const LARGE: (f64, f64) = (32.0, 46.0);
pub const COMPACT: (f64, f64) = (24.0, 29.0);
/// A column of the view (the inputs, then each layer): its units and the first one shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    /// Units in the column.
    pub units: usize,
    /// The first unit shown.
    pub first: usize,
}

impl Column {
    /// The units shown.
    pub fn shown(self) -> std::ops::Range<usize> {
        self.first..(self.first + SHOWN_UNITS).min(self.units)
    }
}

/// Where things are drawn, for one set of columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The inputs, then each layer.
    pub columns: Vec<Column>,
    /// Units in the tallest column shown.
    pub rows: usize,
}

impl Layout {
    /// Side of a unit's box and distance between rows.
    pub fn sizes(&self) -> (f64, f64) {
        if self.rows > LARGE_UNITS {
            COMPACT
        } else {
            LARGE
        }
    }

    /// Height of the plot.
    pub fn height(&self) -> f64 {
        MARGIN_TOP + self.rows as f64 * self.sizes().1 + MARGIN_BOTTOM
    }

    /// Horizontal centre of column `c`, as a fraction of the width.
    pub fn x(&self, c: usize) -> f64 {
        let n = self.columns.len().max(2) - 1;
        SIDE + (1.0 - 2.0 * SIDE) * c as f64 / n as f64
    }

    /// Vertical centre of unit `u` of column `c` (the shown units centred in the column).
    pub fn y(&self, c: usize, u: usize) -> f64 {
        let column = self.columns[c];
        let shown = column.shown();
        let row = self.sizes().1;
        let pad = (self.rows - shown.len()) as f64 * row / 2.0;
        MARGIN_TOP + pad + (u - shown.start) as f64 * row + row / 2.0
    }
}

/// A unit's name: `x1`, `h1.3` (layer 1, unit 3), `out 0`.
pub fn unit_name(layer: usize, unit: usize, layers: usize) -> String {
    if layer == 0 {
        format!("x{}", unit + 1)
    } else if layer == layers {
        format!("out {unit}")
    } else {
        format!("h{layer}.{}", unit + 1)
    }
}

/// A unit's name in `view`: an input by its feature's name when it has one (`x1·x2`), else
/// as [`unit_name`] says.
pub fn view_unit_name(view: &NetworkView, layer: usize, unit: usize) -> String {
    match view.input_names.get(unit) {
        Some(name) if layer == 0 => name.clone(),
        _ => unit_name(layer, unit, view.layers.len()),
    }
}

/// Whether a layer's outputs are probabilities (drawn as the boundary is).
pub fn probability(activation: &str) -> bool {
    matches!(activation, "sigmoid" | "softmax")
}

/// Distance from `p` to the segment `a`-`b`.
pub fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// What a unit's box shows, as shades in [0, 1] on an `n` x `n` grid: its map on 2-D data (an
/// input's map is the feature itself), else its bias against the layer's largest.
pub fn shades_of(view: &NetworkView, layer: usize, unit: usize) -> (Vec<f32>, usize) {
    if let Some(maps) = &view.maps {
        let n = maps.resolution;
        if layer == 0 {
            if let Some(map) = maps.inputs.get(unit) {
                return (unit_shades(map, false), n);
            }
            let shades = (0..n * n)
                .map(|i| {
                    let (row, col) = (i / n, i % n);
                    let t = if unit == 0 { col } else { n - 1 - row };
                    (t as f32 + 0.5) / n as f32
                })
                .collect();
            return (shades, n);
        }
        if let Some(map) = maps.layers.get(layer - 1).and_then(|l| l.get(unit)) {
            let p = probability(&view.layers[layer - 1].activation);
            return (unit_shades(map, p), n);
        }
    }
    if layer == 0 {
        return (vec![0.5], 1);
    }
    let biases = &view.layers[layer - 1].biases;
    let largest = biases.iter().fold(0.0f32, |m, b| m.max(b.abs())).max(1e-6);
    let b = biases.get(unit).copied().unwrap_or(0.0);
    (vec![0.5 + 0.5 * b / largest], 1)
}

/// The focused unit's map as a boundary map (for the boundary panel), when there is one.
pub fn focused_map(view: &NetworkView, focus: (usize, usize)) -> Option<BoundaryMap> {
    let (layer, unit) = focus;
    let maps = view.maps.as_ref()?;
    let map = maps.layers.get(layer.checked_sub(1)?)?.get(unit)?;
    let p = probability(&view.layers[layer - 1].activation);
    Some(BoundaryMap {
        resolution: maps.resolution,
        extent: maps.extent,
        class1: unit_shades(map, p),
        winners: Vec::new(),
        classes: 2,
        value_scale: None,
    })
}

/// What the boundary panel says about the focused unit.
pub fn focus_caption(view: &NetworkView, focus: (usize, usize)) -> String {
    let (layer, unit) = focus;
    let layers = view.layers.len();
    let Some(l) = view.layers.get(layer.wrapping_sub(1)) else {
        return String::new();
    };
    let colours = if probability(&l.activation) {
        "orange 0, blue 1"
    } else {
        "orange negative, blue positive"
    };
    format!(
        "{} ({}): its output over the plane ({colours}), with the data points.",
        unit_name(layer, unit, layers),
        l.activation
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_core::inside::{LayerView, UnitMaps};

    fn layout(units: &[usize]) -> Layout {
        let columns: Vec<Column> = units
            .iter()
            .map(|&u| Column { units: u, first: 0 })
            .collect();
        let rows = columns.iter().map(|c| c.shown().len()).max().unwrap();
        Layout { columns, rows }
    }

    #[test]
    fn columns_are_centred_and_wide_ones_page_and_shrink() {
        let l = layout(&[2, 4, 1]);
        assert_eq!(l.sizes(), LARGE);
        // The two inputs sit in the middle of the four rows, the output in the very middle.
        assert_eq!(l.y(0, 0), l.y(1, 1));
        assert_eq!(l.y(0, 1), l.y(1, 2));
        assert_eq!(l.y(2, 0), (l.y(1, 1) + l.y(1, 2)) / 2.0);
        assert!(l.x(0) < l.x(1) && l.x(1) < l.x(2));
        let wide = layout(&[2, 30, 2]);
        assert_eq!(wide.rows, SHOWN_UNITS);
        assert_eq!(wide.sizes(), COMPACT);
        let paged = Column {
            units: 30,
            first: 16,
        };
        assert_eq!(paged.shown(), 16..30);
    }

    #[test]
    fn the_pointer_reads_the_nearest_edge() {
        assert_eq!(
            distance_to_segment((5.0, 3.0), (0.0, 0.0), (10.0, 0.0)),
            3.0
        );
        assert_eq!(
            distance_to_segment((-4.0, 3.0), (0.0, 0.0), (10.0, 0.0)),
            5.0
        );
        assert_eq!(distance_to_segment((1.0, 1.0), (1.0, 1.0), (1.0, 1.0)), 0.0);
        assert_eq!(unit_name(0, 1, 3), "x2");
        assert_eq!(unit_name(2, 4, 3), "h2.5");
        assert_eq!(unit_name(3, 0, 3), "out 0");
    }

    #[test]
    fn units_show_their_maps_or_else_their_bias() {
        let layer = LayerView {
            inputs: 2,
            units: 2,
            activation: "tanh".into(),
            weights: vec![0.0; 4],
            biases: vec![-0.5, 1.0],
        };
        let mut view = NetworkView {
            inputs: 2,
            layers: vec![layer],
            maps: None,
            input_names: Vec::new(),
        };
        assert_eq!(shades_of(&view, 1, 0), (vec![0.25], 1));
        assert_eq!(shades_of(&view, 1, 1), (vec![1.0], 1));
        view.maps = Some(UnitMaps {
            resolution: 2,
            extent: [0.0, 1.0, 0.0, 1.0],
            layers: vec![vec![
                UnitMap {
                    low: -1.0,
                    high: 1.0,
                    cells: vec![0, 255, 0, 255],
                },
                UnitMap {
                    low: 0.0,
                    high: 0.0,
                    cells: vec![0; 4],
                },
            ]],
            inputs: Vec::new(),
        });
        let (shades, n) = shades_of(&view, 1, 0);
        assert_eq!((n, shades), (2, vec![0.0, 1.0, 0.0, 1.0]));
        // The inputs' maps are the features: x1 grows to the right, x2 upwards.
        assert_eq!(shades_of(&view, 0, 0).0, vec![0.25, 0.75, 0.25, 0.75]);
        assert_eq!(shades_of(&view, 0, 1).0, vec![0.75, 0.75, 0.25, 0.25]);
        let focused = focused_map(&view, (1, 0)).unwrap();
        assert_eq!(focused.class1, vec![0.0, 1.0, 0.0, 1.0]);
        assert!(focused_map(&view, (0, 0)).is_none());
        assert!(focus_caption(&view, (1, 1)).starts_with("out 1 (tanh)"));
        // Features of the plane's points are named, and drawn as computed.
        view.input_names = vec!["x1·x2".into(), "x2".into()];
        if let Some(maps) = &mut view.maps {
            maps.inputs = vec![UnitMap {
                low: -1.0,
                high: 1.0,
                cells: vec![255, 0, 0, 255],
            }];
        }
        assert_eq!(view_unit_name(&view, 0, 0), "x1·x2");
        assert_eq!(view_unit_name(&view, 1, 0), "out 0");
        assert_eq!(shades_of(&view, 0, 0).0, vec![1.0, 0.0, 0.0, 1.0]);
    }
}
