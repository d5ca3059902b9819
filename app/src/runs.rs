//! The runs table's logic, free of the DOM: a one-line description of a run, sorting and
//! filtering, the config diff between runs, and CSV export.

use std::collections::BTreeMap;

use kindling_core::model::{ModelConfig, ModelKind};
use kindling_core::record::RunRecord;
use serde_json::Value;

/// A short description of a run's model, e.g. `MLP 784-300-10`.
pub fn model_text(run: &RunRecord) -> String {
    match &run.config.model {
        ModelConfig::Mlp(m) => {
            let sizes: Vec<String> = m.layer_sizes().iter().map(|s| s.to_string()).collect();
            format!("MLP {}", sizes.join("-"))
        }
        ModelConfig::Cnn(c) => format!("CNN, {} layers", c.layers.len()),
        ModelConfig::Sequence(s) => format!(
            "{}({}) emb {}",
            ModelKind::of(&run.config.model).id().to_uppercase(),
            s.units,
            s.embedding_len
        ),
    }
}

/// Columns the table sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Creation time.
    Created,
    /// Name.
    Name,
    /// Final accuracy.
    Accuracy,
    /// Training time.
    Seconds,
}

/// What the runs table shows of one run, as text: rows are keyed by it, so an update of one
/// run rebuilds that row alone (a run's curve, which can hold many points, is not copied).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunRow {
    /// The run's id.
    pub id: u64,
    /// Its name and notes.
    pub name: String,
    /// Notes.
    pub notes: String,
    /// "dataset · model".
    pub what: String,
    /// The status's name.
    pub status: &'static str,
    /// Why it ended so, when it says.
    pub status_reason: String,
    /// The final accuracy as a percentage (R² on a regression set), or a dash.
    pub accuracy: String,
    /// The epochs done.
    pub epochs_done: usize,
    /// The epochs done, comma-separated.
    pub epoch_list: String,
    /// "done/planned".
    pub epochs: String,
    /// The training time.
    pub seconds: String,
    /// When it started (milliseconds since 1970).
    pub created_ms: u64,
    /// Whether its weights are kept.
    pub has_weights: bool,
    /// Whether it came from a share link.
    pub shared: bool,
}

impl RunRow {
    /// The row of `run`.
    pub fn of(run: &RunRecord) -> RunRow {
        RunRow {
            id: run.id,
            name: run.name.clone(),
            notes: run.notes.clone(),
            what: format!("{} · {}", run.config.dataset.name(), model_text(run)),
            status: run.status.name(),
            status_reason: run.status.reason().unwrap_or_default().to_string(),
            accuracy: run
                .final_accuracy()
                .map(|a| {
                    let regression = run.config.dataset.is_regression();
                    let figure = kindling_core::train::score::format_figure(a, regression);
                    if regression {
                        format!("R² {figure}")
                    } else {
                        figure
                    }
                })
                .unwrap_or_else(|| "–".into()),
            epochs_done: run.epochs.len(),
            epoch_list: run
                .epochs
                .iter()
                .map(|e| e.epoch.to_string())
                .collect::<Vec<_>>()
                .join(","),
            epochs: format!("{}/{}", run.epochs.len(), run.config.training.epochs),
            seconds: format!("{:.1} s", run.seconds),
            created_ms: run.created_ms.max(0.0) as u64,
            has_weights: run.has_weights,
            shared: run.shared,
        }
    }
}

/// The rows of the runs matching `filter`, sorted as [`sorted_filtered`] sorts them.
pub fn run_rows(runs: &[RunRecord], filter: &str, key: SortKey, descending: bool) -> Vec<RunRow> {
    sorted_filtered(runs, filter, key, descending)
        .into_iter()
        .map(RunRow::of)
        .collect()
}

/// The runs matching `filter` (case-insensitive, on name, notes, dataset, model and status),
/// sorted by `key` (descending when `descending`).
pub fn sorted_filtered<'a>(
    runs: &'a [RunRecord],
    filter: &str,
    key: SortKey,
    descending: bool,
) -> Vec<&'a RunRecord> {
    let needle = filter.trim().to_lowercase();
    let mut out: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| {
            needle.is_empty()
                || [
                    r.name.as_str(),
                    r.notes.as_str(),
                    r.config.dataset.name(),
                    &model_text(r),
                    r.status.name(),
                ]
                .iter()
                .any(|t| t.to_lowercase().contains(&needle))
        })
        .collect();
    out.sort_by(|a, b| {
        let order = match key {
            SortKey::Created => a.id.cmp(&b.id),
            SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortKey::Accuracy => a
                .final_accuracy()
                .unwrap_or(-1.0)
                .total_cmp(&b.final_accuracy().unwrap_or(-1.0)),
            SortKey::Seconds => a.seconds.total_cmp(&b.seconds),
        };
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    out
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        Value::Array(items) => {
            out.insert(format!("{prefix}.len"), items.len().to_string());
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The config fields whose values differ between the runs: (field path, one value per run,
/// "–" where a run has no such field).
pub fn config_diff(runs: &[RunRecord]) -> Vec<(String, Vec<String>)> {
    let flat: Vec<BTreeMap<String, String>> = runs
        .iter()
        .map(|r| {
            let mut m = BTreeMap::new();
            flatten(
                "",
                &serde_json::to_value(&r.config).unwrap_or(Value::Null),
                &mut m,
            );
            m
        })
        .collect();
    let mut keys: Vec<&String> = flat.iter().flat_map(|m| m.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let values: Vec<String> = flat
                .iter()
                .map(|m| m.get(k).cloned().unwrap_or_else(|| "–".into()))
                .collect();
            let differs = values.windows(2).any(|w| w[0] != w[1]);
            differs.then(|| (k.clone(), values))
        })
        .collect()
}

/// A text cell of a CSV file: quoted when it holds a separator, a quote or a line break, and
/// defused when a spreadsheet would run it as a formula (OWASP's rule: a cell starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`). A run's name and notes
/// can come from a share link, so they are someone else's text.
pub(crate) fn csv_field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if defused.contains([',', '"', '\n', '\r', '\'']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// The runs as CSV: one row per run, with its main settings and results.
pub fn runs_csv(runs: &[RunRecord]) -> String {
    let mut out = String::from(
        "id,name,dataset,model,optimizer,learning_rate,batch_size,epochs,seed,device,engine,status,\
         epochs_done,final_train_loss,final_heldout_loss,final_heldout_accuracy,test_accuracy,seconds,samples_per_second,notes\n",
    );
    for r in runs {
        let last = r.epochs.last();
        let t = &r.config.training;
        let fields = [
            r.id.to_string(),
            csv_field(&r.name),
            csv_field(r.config.dataset.name()),
            csv_field(&model_text(r)),
            format!("{:?}", t.optimizer.kind),
            t.optimizer.learning_rate.to_string(),
            t.batch_size.to_string(),
            t.epochs.to_string(),
            t.seed.to_string(),
            r.config.device.name().to_string(),
            format!("{:?}", r.config.engine),
            r.status.name().to_string(),
            r.epochs.len().to_string(),
            last.map(|e| format!("{:.6}", e.train_loss))
                .unwrap_or_default(),
            last.map(|e| format!("{:.6}", e.eval_loss))
                .unwrap_or_default(),
            last.map(|e| format!("{:.6}", e.eval_accuracy))
                .unwrap_or_default(),
            r.test_accuracy
                .map(|a| format!("{a:.6}"))
                .unwrap_or_default(),
            format!("{:.2}", r.seconds),
            format!("{:.0}", r.samples_per_second),
            csv_field(&r.notes),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_core::record::RunStatus;

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_defused() {
        assert_eq!(csv_field("plain run"), "plain run");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            let cell = csv_field(formula);
            assert!(cell.starts_with("\"'"), "{formula:?} -> {cell}");
            let inner = &cell[1..cell.len() - 1];
            assert_eq!(inner.replace("\"\"", "\""), format!("'{formula}"));
        }
    }
    use kindling_core::train::EpochMetrics;
    use kindling_core::RunConfig;

    fn run(id: u64, preset: &str, name: &str, acc: f64) -> RunRecord {
        RunRecord {
            id,
            name: name.into(),
            notes: String::new(),
            config: RunConfig::preset(preset).unwrap(),
            status: RunStatus::Finished,
            epochs: vec![EpochMetrics {
                epoch: 1,
                train_loss: 0.5,
                train_accuracy: 0.8,
                eval_loss: 0.6,
                eval_accuracy: acc,
            }],
            curve: vec![],
            batches_per_epoch: 10,
            test_accuracy: None,
            seconds: id as f64,
            samples_per_second: 100.0,
            created_ms: 0.0,
            shared: false,
            has_weights: false,
        }
    }

    #[test]
    fn the_diff_shows_only_what_changed() {
        let a = run(1, "mlp-keras", "a", 0.9);
        let mut b = run(2, "mlp-keras", "b", 0.8);
        b.config.training.optimizer.learning_rate = 0.01;
        b.config.training.seed = 9;
        let diff = config_diff(&[a.clone(), b]);
        let fields: Vec<&str> = diff.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            fields,
            vec!["training.optimizer.learning_rate", "training.seed"]
        );
        assert_eq!(diff[0].1, vec!["0.001", "0.01"]);
        let c = run(3, "mlp-3layer", "c", 0.7);
        let diff = config_diff(&[a, c]);
        assert!(diff.iter().any(|(k, _)| k == "model.hidden.len"));
        assert!(diff
            .iter()
            .any(|(k, v)| k == "model.hidden[1].units" && v[0] == "–"));
    }

    #[test]
    fn sorting_and_filtering() {
        let runs = vec![
            run(1, "mlp-keras", "Beta", 0.9),
            run(2, "tinytoy-hw1", "alpha", 0.95),
            run(3, "mlp-keras", "gamma, \"quoted\"", 0.5),
        ];
        let by_acc = sorted_filtered(&runs, "", SortKey::Accuracy, true);
        assert_eq!(
            by_acc.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![2, 1, 3]
        );
        let by_name = sorted_filtered(&runs, "", SortKey::Name, false);
        assert_eq!(by_name[0].name, "alpha");
        let mnist = sorted_filtered(&runs, "mnist", SortKey::Created, false);
        assert_eq!(mnist.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1, 3]);
        let csv = runs_csv(&runs);
        assert_eq!(csv.lines().count(), 4);
        assert!(csv.contains("\"gamma, \"\"quoted\"\"\""));
        assert!(csv.lines().nth(2).unwrap().contains("tinyTOY"));
    }

    #[test]
    fn a_row_changes_with_what_it_shows_and_not_with_the_curve() {
        let mut r = run(1, "mlp-keras", "a", 0.9);
        let row = RunRow::of(&r);
        assert_eq!(row.accuracy, "90.00%");
        assert_eq!(row.epochs, "1/10");
        assert_eq!(row.epoch_list, "1");
        assert!(row.what.starts_with("MNIST · MLP 784-"), "{}", row.what);
        // The curve grows on every save while training: the row (the table's key) stays.
        r.curve.push(kindling_core::train::BatchPoint {
            step: 1,
            epoch: 1,
            loss: 0.3,
            accuracy: 0.9,
        });
        assert_eq!(RunRow::of(&r), row);
        r.epochs.push(r.epochs[0]);
        r.epochs[1].epoch = 2;
        assert_ne!(RunRow::of(&r), row);
        assert_eq!(RunRow::of(&r).epoch_list, "1,2");
        r.notes = "lr too high".into();
        assert!(run_rows(&[r], "too high", SortKey::Created, false)[0].notes == "lr too high");
    }
}
