//! The messages round trip as JSON, with their bytes beside it.

use super::*;
use kindling_core::export::Framework;

#[test]
fn messages_round_trip_as_json() {
    let config = RunConfig::preset("tinytoy-hw1").expect("a preset");
    let to = ToWorker::Start {
        run_id: 3,
        config: Box::new(config),
        pick: DevicePick::Fastest {
            known: Some(DeviceSpeeds {
                key: "k".into(),
                speeds: vec![],
            }),
        },
        paused: true,
    };
    assert_eq!(ToWorker::decode(&to.encode()).unwrap(), to);
    let from = FromWorker::Ended {
        run_id: 3,
        end: RunStatus::Diverged("NaN".into()),
        report: Some(Box::default()),
        progress: ProgressReport::default(),
    };
    assert_eq!(FromWorker::decode(&from.encode()).unwrap(), from);
    let change = Steer {
        at_step: 7,
        learning_rate: Some(0.5),
        ..Steer::default()
    };
    let steer = ToWorker::Steer { change };
    assert_eq!(ToWorker::decode(&steer.encode()).unwrap(), steer);
    for result in [Ok(change), Err("Not changed".to_string())] {
        let steered = FromWorker::Steered { run_id: 3, result };
        assert_eq!(FromWorker::decode(&steered.encode()).unwrap(), steered);
    }
    assert!(ToWorker::decode("{\"Start\":1}").is_err());
    // Boundary maps: three classes by their winners, two by the class-1 probability.
    let three = BoundaryMap::of_probabilities(
        2,
        [0.0, 1.0, 0.0, 1.0],
        &[0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.1, 0.8, 0.6, 0.3, 0.1],
        3,
    );
    assert_eq!(three.winners, [0, 1, 2, 0]);
    assert_eq!(three.class1, [0.8, 0.7, 0.8, 0.6]);
    assert_eq!(three.classes_shown(), 3);
    let two = BoundaryMap::of_probabilities(1, [0.0; 4], &[0.3, 0.7], 2);
    assert_eq!((two.class1.clone(), two.classes_shown()), (vec![0.7], 1));
    assert_eq!(
        FromWorker::decode(
            &FromWorker::Boundary {
                run_id: 1,
                map: three.clone()
            }
            .encode()
        )
        .unwrap(),
        FromWorker::Boundary {
            run_id: 1,
            map: three
        }
    );
    // Weights leave the JSON and come back through `attach`.
    let with_bytes = FromWorker::Weights {
        run_id: 4,
        weights: vec![1, 2, 3],
    };
    let text = with_bytes.encode();
    assert!(!text.contains("weights"), "{text}");
    let decoded = FromWorker::decode(&text).unwrap();
    assert_ne!(decoded, with_bytes);
    assert_eq!(decoded.attach(vec![1, 2, 3]), with_bytes);
    // So do an export's weights, and the exported file.
    let record = RunRecord::started(
        1,
        "run".into(),
        RunConfig::preset("tinytoy-hw1").unwrap(),
        0.0,
    );
    let export = ToWorker::Export {
        record: Box::new(record),
        format: ExportFormat::Framework(Framework::Keras),
        weights: vec![9; 16],
    };
    let decoded = ToWorker::decode(&export.encode()).unwrap();
    assert_eq!(
        decoded.attach(export.attachment().unwrap().to_vec()),
        export
    );
    let exported = FromWorker::Exported {
        run_id: 1,
        name: "run-1-keras.zip".into(),
        bytes: vec![7; 8],
    };
    let text = exported.encode();
    assert!(!text.contains("bytes"), "{text}");
    assert_eq!(
        FromWorker::decode(&text).unwrap().attach(vec![7; 8]),
        exported
    );
    let picked = FromWorker::ThreadsPicked {
        run_id: 2,
        cpu_threads: 2,
        speeds: Some(kindling_core::train::ThreadTrial::new("k".into(), 2).figures()),
    };
    assert_eq!(FromWorker::decode(&picked.encode()).unwrap(), picked);
    let fault = ToWorker::Fault { fault: Fault::Trap };
    assert_eq!(ToWorker::decode(&fault.encode()).unwrap(), fault);
}

#[test]
fn the_out_of_memory_note_fits_the_allocators_buffer() {
    // The worker writes it into a fixed buffer from inside its allocator (no heap there).
    let note = FromWorker::OutOfMemory {
        requested: u64::MAX,
        memory: u64::MAX,
    };
    let mut buffer = [0u8; OUT_OF_MEMORY_NOTE_BYTES];
    let mut writer = &mut buffer[..];
    serde_json::to_writer(&mut writer, &note).expect("it fits");
    let written = OUT_OF_MEMORY_NOTE_BYTES - writer.len();
    let text = std::str::from_utf8(&buffer[..written]).unwrap();
    assert_eq!(FromWorker::decode(text).unwrap(), note);
}

/// A diverged model's figures are NaN, which JSON writes as null: the messages that carry them
/// still read (a health report's "not finite" note, a review of a broken model).
#[test]
fn messages_with_non_finite_figures_still_read() {
    use kindling_core::inside::health::{Histogram, LayerHealth};
    let layer = LayerHealth {
        name: "dense_1".into(),
        weights: Histogram::of(&[1.0, f32::NAN]),
        gradients: Histogram::of(&[f32::NAN]),
        activations: None,
        weight_norm: 1.0,
        gradient_norm: f32::NAN,
        update_ratio: f32::INFINITY,
        dead_share: None,
        warning: None,
        note: None,
    };
    let health = FromWorker::Health {
        run_id: 1,
        report: Box::new(HealthReport {
            layers: vec![layer],
            ..HealthReport::default()
        }),
    };
    let FromWorker::Health { report, .. } = FromWorker::decode(&health.encode()).unwrap() else {
        panic!("a health report")
    };
    assert!(report.layers[0].gradient_norm.is_nan() && report.layers[0].update_ratio.is_nan());
    assert_eq!(report.layers[0].gradients.non_finite, 1);
    let review = FromWorker::ReviewPrediction {
        request: 2,
        positive: f32::NAN,
        unknown: vec![],
        tokens: 1,
        trace: None,
    };
    assert!(matches!(
        FromWorker::decode(&review.encode()).unwrap(),
        FromWorker::ReviewPrediction { positive, .. } if positive.is_nan()
    ));
    let image = FromWorker::ImagePrediction {
        request: 3,
        probabilities: vec![f32::NAN, 0.5],
        layers: None,
        input: ImageExample {
            side: 1,
            pixels: vec![0],
            label: 0,
            predicted: None,
        },
    };
    assert!(matches!(
        FromWorker::decode(&image.encode()).unwrap(),
        FromWorker::ImagePrediction { probabilities, .. } if probabilities[0].is_nan() && probabilities[1] == 0.5
    ));
}
