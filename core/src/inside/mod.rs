//! What the playground shows of the inside of a network while it trains, computed from the
//! current weights (in the worker, at a throttled rate) as compact arrays for the page to draw.
//!
//! `network` is the network view of a dense network (an MLP, or the homework's network): every
//! layer's weights and biases, and on 2-D data each unit's output over the input plane; on
//! images, each first-layer unit's incoming weights as an image. `layers` is what every layer
//! of an image model computes for one image (a drawn digit), and the first filters. `words` is
//! what a recurrent text model reads in a review, word by word. `health` is every layer's
//! health while it trains (histograms, norms, update ratio, dead units, notes).

pub mod health;
pub mod layers;
pub mod network;
pub mod words;

pub use layers::{image_layers, image_layers_of, ImageLayers, LayerLevels};
pub use words::{review_trace, ReadWord, ReviewTrace};

pub use network::{
    first_layer_images, network_view, DenseParams, LayerView, NetworkView, UnitImages, UnitMap,
    UnitMaps,
};
