//! The page's panels, one file each: builder (dataset, model, training settings, summary),
//! training (controls, progress, curves, boundary, report), try-it (draw a digit, type a review).

pub mod about;
pub mod builder;
pub mod fields;
pub mod layer_view;
pub mod lesson;
pub mod runs;
pub mod sweep;
pub mod training;
pub mod try_it;
pub mod word_trace;
