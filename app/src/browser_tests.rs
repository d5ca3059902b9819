//! Unit tests that need a real browser (`wasm-bindgen-test` in headless Chromium, run by
//! `cargo xtask test`): the drawing pad's MNIST preprocessing on a real canvas, the share-link
//! codec and the model file in wasm, the dataset cache (Cache API) checked against the
//! manifest, and the fused recurrent operation on WebGPU (SwiftShader's adapter: Chromium runs
//! with `--enable-unsafe-webgpu`, app/webdriver.json).

use kindling_core::data::manifest::{sha256_hex, AssetFile};
use kindling_core::link::{decode_link, encode_link, LinkError};
use kindling_core::record::{RunRecord, RunStatus};
use kindling_core::train::{BatchPoint, EpochMetrics};
use kindling_core::RunConfig;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use crate::components::try_it::{clear, context, drawing, PEN};

wasm_bindgen_test_configure!(run_in_browser);

fn canvas(side: u32) -> web_sys::HtmlCanvasElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement =
        document.create_element("canvas").unwrap().unchecked_into();
    canvas.set_width(side);
    canvas.set_height(side);
    canvas
}

fn stroke(canvas: &web_sys::HtmlCanvasElement, points: &[(f64, f64)]) {
    let ctx = context(canvas).unwrap();
    ctx.set_stroke_style_str("#ffffff");
    ctx.set_line_width(PEN);
    ctx.set_line_cap("round");
    ctx.begin_path();
    ctx.move_to(points[0].0, points[0].1);
    for &(x, y) in &points[1..] {
        ctx.line_to(x, y);
    }
    ctx.stroke();
}

/// Bounding box (rows, cols, inclusive) and centre of mass of the ink of a 28x28 image.
fn ink_geometry(pixels: &[u8]) -> ((usize, usize), (usize, usize), (f64, f64)) {
    let (mut r0, mut r1, mut c0, mut c1) = (28, 0, 28, 0);
    let (mut mass, mut my, mut mx) = (0.0, 0.0, 0.0);
    for (i, &p) in pixels.iter().enumerate() {
        if p > 0 {
            let (r, c) = (i / 28, i % 28);
            (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
            mass += p as f64;
            my += r as f64 * p as f64;
            mx += c as f64 * p as f64;
        }
    }
    ((r0, r1), (c0, c1), (my / mass, mx / mass))
}

/// A stroke drawn off-centre in the corner of the pad becomes what MNIST's preprocessing
/// makes: its box scaled to 20 pixels, centred by mass in 28x28.
#[wasm_bindgen_test]
fn a_drawn_stroke_becomes_an_mnist_digit() {
    let pad = canvas(280);
    clear(&pad);
    assert_eq!(
        drawing(&pad).unwrap().to_mnist(),
        None,
        "a blank pad has no digit"
    );
    // A "1": a vertical stroke in the upper-left part of the pad.
    stroke(&pad, &[(60.0, 30.0), (62.0, 150.0)]);
    let pixels = drawing(&pad).unwrap().to_mnist().expect("ink");
    assert_eq!(pixels.len(), 784);
    let ((r0, r1), (c0, c1), (cy, cx)) = ink_geometry(&pixels);
    let (height, width) = (r1 - r0 + 1, c1 - c0 + 1);
    assert!((19..=22).contains(&height), "scaled to 20 rows: {height}");
    assert!(
        width < height / 2,
        "still a thin vertical stroke: {width}x{height}"
    );
    assert!(
        (cy - 13.5).abs() < 1.5 && (cx - 13.5).abs() < 1.5,
        "centred by mass: ({cy}, {cx})"
    );
    assert!(
        pixels.iter().any(|&p| p > 200),
        "grey levels reach full ink"
    );
    assert!(
        pixels.iter().any(|&p| p > 0 && p < 200),
        "anti-aliased edges stay grey"
    );
}

fn finished_run() -> RunRecord {
    RunRecord {
        id: 1,
        name: "browser link".into(),
        notes: String::new(),
        config: RunConfig::preset("mnist-10k").unwrap(),
        status: RunStatus::Finished,
        epochs: (1..=3)
            .map(|e| EpochMetrics {
                epoch: e,
                train_loss: 0.5 / e as f64,
                train_accuracy: 0.9,
                eval_loss: 0.6 / e as f64,
                eval_accuracy: 0.9 + e as f64 / 100.0,
            })
            .collect(),
        curve: (1..=300)
            .map(|s| BatchPoint {
                step: s,
                epoch: 1 + s / 100,
                loss: 2.0 / s as f64,
                accuracy: 0.5,
            })
            .collect(),
        batches_per_epoch: 100,
        test_accuracy: Some(0.93),
        seconds: 8.0,
        samples_per_second: 12000.0,
        created_ms: 1.8e12,
        shared: false,
        has_weights: false,
    }
}

/// The link codec (deflate + base64 in wasm) round-trips, and a damaged link is an error.
#[wasm_bindgen_test]
fn share_links_round_trip_in_the_browser() {
    let run = finished_run();
    let link = encode_link("http://127.0.0.1:8080/", &run);
    assert!(link.len() < 2000, "{} characters", link.len());
    let back = decode_link(&link).unwrap();
    assert_eq!(back.config, run.config);
    assert_eq!(back.epochs.len(), 3);
    assert!(back.shared);
    let cut = &link[..link.len() - 40];
    assert!(matches!(decode_link(cut), Err(LinkError::Damaged(_))));
    let other_version = link.replace("#run=k1.", "#run=k9.");
    assert!(matches!(
        decode_link(&other_version),
        Err(LinkError::UnknownVersion(_))
    ));
}

async fn cache() -> web_sys::Cache {
    let caches = web_sys::window().unwrap().caches().unwrap();
    JsFuture::from(caches.open("kindling-data-v1"))
        .await
        .unwrap()
        .unchecked_into()
}

async fn cached(url: &str) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache().await.match_with_str(url))
        .await
        .ok()?;
    let response: web_sys::Response = hit.dyn_into().ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn put(url: &str, bytes: &[u8]) {
    let mut copy = bytes.to_vec();
    let response = web_sys::Response::new_with_opt_u8_array(Some(&mut copy)).unwrap();
    JsFuture::from(cache().await.put_with_str(url, &response))
        .await
        .unwrap();
}

/// A data file in the cache is used when it matches the manifest; a stale one is dropped and
/// downloaded again (here nothing serves it, so the error says which command makes it).
#[wasm_bindgen_test]
async fn the_dataset_cache_is_checked_against_the_manifest() {
    let file = "browser-test/labels.bin";
    let url = format!("data/{file}");
    let bytes = b"ten labels".to_vec();
    let entry = AssetFile {
        path: file.into(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    };
    put(&url, &bytes).await;
    let read = crate::worker::fetch_checked(Some(1), file, &entry, 0, entry.bytes)
        .await
        .unwrap();
    assert_eq!(read, bytes, "read from the cache");

    put(&url, b"stale bytes").await;
    let error = crate::worker::fetch_checked(Some(1), file, &entry, 0, entry.bytes)
        .await
        .unwrap_err();
    assert!(error.contains("cargo xtask data"), "{error}");
    assert_eq!(cached(&url).await, None, "the stale copy is gone");
}

/// The configs of core/tests/configs/ (included at build time) with their refusals.
fn wrapping_configs() -> Vec<(&'static str, RunConfig, Vec<String>)> {
    let refusals: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(include_str!("../../core/tests/configs/refusals.json")).unwrap();
    let configs = [
        (
            "cnn-1024-filters-dense-4096.json",
            include_str!("../../core/tests/configs/cnn-1024-filters-dense-4096.json"),
        ),
        (
            "lstm-1024-units-2500-steps.json",
            include_str!("../../core/tests/configs/lstm-1024-units-2500-steps.json"),
        ),
        (
            "mlp-16x4096-batch-1000.json",
            include_str!("../../core/tests/configs/mlp-16x4096-batch-1000.json"),
        ),
    ];
    assert_eq!(configs.len(), refusals.len());
    configs
        .into_iter()
        .map(|(file, text)| {
            let refusal = refusals[file].clone();
            (file, serde_json::from_str(text).unwrap(), refusal)
        })
        .collect()
}

/// In wasm32 (a 32-bit `usize`, overflow unchecked in this release build) the configs whose
/// memory exceeds 4 GiB are refused with exactly the native CLI's message: the sixteen
/// 4096-wide layers at batch 1000 need 4.60 GB, not the 309 MB a wrapped sum made of it.
#[wasm_bindgen_test]
fn configs_whose_memory_wraps_32_bits_are_refused_as_natively() {
    assert_eq!(std::mem::size_of::<usize>(), 4, "this test runs in wasm32");
    for (file, config, refusal) in wrapping_configs() {
        let problems: Vec<String> = config.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(problems, refusal, "{file}");
        let (_, bytes) = config.memory_estimate().unwrap();
        assert!(bytes > u32::MAX as u64, "{file}: {bytes}");
    }
    let (_, mlp, _) = wrapping_configs()
        .into_iter()
        .find(|(f, ..)| f.starts_with("mlp"))
        .unwrap();
    assert_eq!(mlp.memory_estimate().unwrap().1, 4_603_984_160);
}

/// A share link carrying such a config (it is well-formed) is refused in wasm32 with the
/// same message, before anything trains.
#[wasm_bindgen_test]
fn a_link_to_a_config_that_wraps_is_refused_with_the_same_message() {
    for (file, config, refusal) in wrapping_configs() {
        let record = RunRecord::started(1, "huge".into(), config, 0.0);
        let link = encode_link("http://127.0.0.1/", &record);
        let error = decode_link(&link).unwrap_err();
        assert!(
            matches!(error, LinkError::InvalidRun(_)) && error.to_string().contains(&refusal[0]),
            "{file}: {error}"
        );
    }
}

/// (Part of `the_custom_operations_agree_on_webgpu_and_the_cpu`.) The CNN's convolution and
/// max pooling operations give on WebGPU, where they are burn's own
/// operations and gradients, the values and gradients they give on the CPU device, where
/// they run as im2col products and pooling loops (checked natively against burn's own on
/// flex and ndarray): the convolution's output and the gradients of its input, kernel and
/// bias (TensorFlow's asymmetric "same" padding, stride 2), and the pooling's output and
/// input gradient on distinct values (no ties to break differently).
async fn convolution_and_pooling_agree(gpu: &burn::tensor::Device) {
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::{Device, Tensor};
    use kindling_core::device::read_f32s;
    use kindling_core::model::{conv_ops, pool_ops};

    let series = |n: usize, k: usize| -> Vec<f32> {
        (0..n).map(|i| ((i * k % 23) as f32 - 11.0) / 9.0).collect()
    };
    let (x_shape, w_shape) = ([2, 3, 9, 8], [4, 3, 3, 3]);
    let options = ConvOptions::new_with_padding([2, 2], [(0, 1), (1, 1)], [1, 1], 1);
    let pool_shape = [2, 3, 8, 6];
    let pool_len: usize = pool_shape.iter().product();
    // A permutation of 0..len, scaled: every value distinct.
    let distinct: Vec<f32> = (0..pool_len)
        .map(|i| ((i * 7919) % pool_len) as f32 / 10.0)
        .collect();
    let mut results = Vec::new();
    for device in [Device::flex().autodiff(), gpu.clone().autodiff()] {
        let tensor = |values: Vec<f32>, shape: [usize; 4]| {
            Tensor::<1>::from_floats(values.as_slice(), &device).reshape(shape)
        };
        let x = tensor(series(x_shape.iter().product(), 37), x_shape).require_grad();
        let weight = tensor(series(w_shape.iter().product(), 13), w_shape).require_grad();
        let bias = Tensor::<1>::from_floats(series(4, 5).as_slice(), &device).require_grad();
        let y = conv_ops::conv2d(x.clone(), weight.clone(), bias.clone(), options.clone());
        let loss_weights = tensor(series(y.dims().iter().product(), 7), y.dims());
        let grads = (y.clone() * loss_weights).sum().backward();
        let pooled_input = tensor(distinct.clone(), pool_shape).require_grad();
        let pooled = pool_ops::max_pool2d(pooled_input.clone(), [2, 2], [2, 2]);
        let pool_weights = tensor(series(pooled.dims().iter().product(), 11), pooled.dims());
        let pool_grads = (pooled.clone() * pool_weights).sum().backward();
        results.push([
            read_f32s(y).await.unwrap(),
            read_f32s(x.grad(&grads).unwrap()).await.unwrap(),
            read_f32s(weight.grad(&grads).unwrap()).await.unwrap(),
            read_f32s(bias.grad(&grads).unwrap()).await.unwrap(),
            read_f32s(pooled).await.unwrap(),
            read_f32s(pooled_input.grad(&pool_grads).unwrap())
                .await
                .unwrap(),
        ]);
    }
    let names = [
        "conv output",
        "conv input grad",
        "kernel grad",
        "bias grad",
        "pooled",
        "pool input grad",
    ];
    for ((cpu, webgpu), name) in results[0].iter().zip(&results[1]).zip(names) {
        assert_eq!(cpu.len(), webgpu.len(), "{name}");
        let scale = cpu.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        for (a, b) in cpu.iter().zip(webgpu) {
            assert!(
                (a - b).abs() <= 1e-4 * scale,
                "{name}: CPU {cpu:?} vs WebGPU {webgpu:?}"
            );
        }
    }
}

/// Kindling's burn operations agree on WebGPU and the CPU device. The recurrent layer's fused
/// sequence (one burn operation with its own backward pass) gives
/// on WebGPU, where the operation is composed from the backend's primitives, the values and
/// gradients it gives on the CPU device, where its fused loops run (checked natively against
/// the composed cell): the states of every step, and the gradients of the input, both kernels
/// and the bias.
#[wasm_bindgen_test]
async fn the_custom_operations_agree_on_webgpu_and_the_cpu() {
    use burn::module::Param;
    use burn::tensor::{Device, Tensor};
    use kindling_core::device::read_f32s;
    use kindling_core::model::recurrent::{Recurrent, RecurrentKind};
    use kindling_core::DeviceChoice;

    let gpu = DeviceChoice::Wgpu
        .open_async()
        .await
        .expect("Chromium with --enable-unsafe-webgpu has a WebGPU adapter");
    let (batch, time, inputs, units) = (3, 7, 4, 5);
    let series = |n: usize, k: usize| -> Vec<f32> {
        (0..n).map(|i| ((i * k % 23) as f32 - 11.0) / 9.0).collect()
    };
    let input = series(batch * time * inputs, 37);
    let weights = series(batch * time * units, 13);
    for kind in [RecurrentKind::Lstm, RecurrentKind::Gru] {
        let g = kind.gates();
        let kernel = series(inputs * g * units, 7);
        let recurrent = series(units * g * units, 11);
        let bias = series(g * units, 5);
        let mut results = Vec::new();
        for device in [Device::flex().autodiff(), gpu.clone().autodiff()] {
            let mut layer = Recurrent::new(kind, inputs, units, &device);
            let param = |values: &[f32], shape: [usize; 2]| {
                Param::from_tensor(Tensor::<1>::from_floats(values, &device).reshape(shape))
            };
            layer.kernel = param(&kernel, [inputs, g * units]);
            layer.recurrent_kernel = param(&recurrent, [units, g * units]);
            layer.bias = Param::from_tensor(Tensor::from_floats(bias.as_slice(), &device));
            let x = Tensor::<1>::from_floats(input.as_slice(), &device)
                .reshape([batch, time, inputs])
                .require_grad();
            let w =
                Tensor::<1>::from_floats(weights.as_slice(), &device).reshape([batch, time, units]);
            let states = layer.forward_states(x.clone());
            let grads = (states.clone() * w).sum().backward();
            results.push([
                read_f32s(states).await.unwrap(),
                read_f32s(x.grad(&grads).unwrap()).await.unwrap(),
                read_f32s(layer.kernel.val().grad(&grads).unwrap())
                    .await
                    .unwrap(),
                read_f32s(layer.recurrent_kernel.val().grad(&grads).unwrap())
                    .await
                    .unwrap(),
                read_f32s(layer.bias.val().grad(&grads).unwrap())
                    .await
                    .unwrap(),
            ]);
        }
        let names = [
            "states",
            "input grad",
            "kernel grad",
            "recurrent grad",
            "bias grad",
        ];
        for ((cpu, webgpu), name) in results[0].iter().zip(&results[1]).zip(names) {
            assert_eq!(cpu.len(), webgpu.len(), "{kind:?} {name}");
            let scale = cpu.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
            for (a, b) in cpu.iter().zip(webgpu) {
                assert!(
                    (a - b).abs() <= 1e-4 * scale,
                    "{kind:?} {name}: CPU {cpu:?} vs WebGPU {webgpu:?}"
                );
            }
        }
    }
    // The browser registers one WebGPU device per page: the CNN's operations share it.
    convolution_and_pooling_agree(&gpu).await;
}
