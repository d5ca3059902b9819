//! The decoders' mutation tests in wasm32 (`wasm-bindgen-test` in headless Chromium, run by
//! `cargo xtask test`): the mutants of `core/tests/decoders.rs`, fewer of them, through the
//! same decoders built for the browser (share links, CSV and idx uploads with gzip, model
//! files). A panic fails the test (in wasm it aborts it); the panic hook first logs which
//! mutant it was. Allocation is measured natively only.

use std::cell::RefCell;

use kindling_core::data::idx::encode_idx;
use kindling_core::data::upload::decode_upload;
use kindling_core::model::weights::weights_of;
use kindling_core::mutations::{gzip_of_zeros, mutants, sample_run, targets, Target};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Mutants per decoder input (300 natively; these 200 take about a second in all).
const MUTANTS: usize = 200;

thread_local! {
    /// The mutant being decoded, for the panic hook.
    static CURRENT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Logs the mutant being decoded before the panic's own message.
fn name_the_mutant_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        CURRENT.with(|c| {
            web_sys::console::error_1(&format!("decoding {}", c.borrow()).into());
        });
        previous(info);
    }));
}

/// The weights of `sample_run`'s model, read asynchronously as the page does.
async fn sample_weights() -> Vec<u8> {
    let run = sample_run();
    let device = burn::tensor::Device::flex();
    let model = run.config.model.init(&device).unwrap();
    weights_of(&model, &run.config.model).await.unwrap()
}

/// Runs `MUTANTS` mutants of each target named `names`; returns how many were accepted.
async fn run(names: &[&str]) -> Vec<(&'static str, usize)> {
    name_the_mutant_on_panic();
    let chosen: Vec<Target> = targets(sample_weights().await)
        .into_iter()
        .filter(|t| names.contains(&t.name))
        .collect();
    assert_eq!(chosen.len(), names.len(), "every target exists");
    let mut accepted = Vec::new();
    for (seed, target) in chosen.iter().enumerate() {
        let valid = (target.decode)(&(target.prepare)(&target.valid));
        assert!(valid.is_ok(), "{}: the valid input: {valid:?}", target.name);
        let mut count = 0;
        for mutant in mutants(&target.valid, &target.length_fields, seed as u64, MUTANTS) {
            CURRENT.with(|c| *c.borrow_mut() = format!("{}: {mutant}", target.name));
            let input = (target.prepare)(&mutant.bytes);
            count += usize::from((target.decode)(&input).is_ok());
        }
        accepted.push((target.name, count));
    }
    web_sys::console::log_1(&format!("accepted mutants: {accepted:?}").into());
    accepted
}

#[wasm_bindgen_test]
async fn mutated_links_never_panic_in_wasm() {
    run(&["link text", "link payload"]).await;
}

#[wasm_bindgen_test]
async fn mutated_csv_uploads_never_panic_in_wasm() {
    run(&["CSV"]).await;
}

#[wasm_bindgen_test]
async fn mutated_idx_uploads_raw_and_gzip_never_panic_in_wasm() {
    run(&["idx images", "idx labels", "idx behind gzip", "gzip bytes"]).await;
}

#[wasm_bindgen_test]
async fn mutated_model_files_never_panic_in_wasm() {
    run(&["model file", "model file's run"]).await;
}

/// A gzip bomb (300 MB of zero pixels in about 300 kB) and a CSV of 5,000 classes are
/// refused with their limits, in wasm32's 32-bit arithmetic too.
#[wasm_bindgen_test]
fn a_gzip_bomb_and_a_many_class_csv_are_refused_with_their_limits() {
    let bomb = gzip_of_zeros(&encode_idx(&[300 << 10, 32, 32], &[]), 300 << 20);
    let labels = encode_idx(&[300 << 10], &vec![0; 300 << 10]);
    let e = decode_upload(&[("bomb.idx3.gz", &bomb), ("l.idx1", &labels)])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "bomb.idx3.gz, byte 0: inflates to more than 200 MB, the limit of an upload"
    );
    let rows: String = (0..5000).map(|i| format!("{i},class{i}\n")).collect();
    let csv = format!("x,label\n{rows}");
    let e = decode_upload(&[("many.csv", csv.as_bytes())])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("many.csv, line 1002, column 2 (label): label \"class1000\"")
            && e.contains("than the 1000 classes a dataset may have"),
        "{e}"
    );
}
