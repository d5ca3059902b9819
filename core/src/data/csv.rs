//! User data as CSV: numeric feature columns and one label column (integers or class names).
//! Every problem is reported with its line and column; nothing is partially loaded.

use super::dataset::{Dataset, ExampleShape, Examples};
use super::DataError;

/// Most classes a CSV dataset may have.
pub const MAX_CLASSES: usize = 1000;

/// Parses CSV text with a header row. `label` names the label column (default: the last one).
/// Labels that are all non-negative integers are used as class ids; otherwise each distinct
/// label becomes a class, in sorted order. Returns the dataset and the class names.
pub fn decode_csv(
    text: &str,
    file: &str,
    label: Option<&str>,
) -> Result<(Dataset, Vec<String>), DataError> {
    let err = |line: usize, message: String| DataError::Text {
        file: file.into(),
        line,
        message: if message.starts_with("line ") {
            message
        } else {
            format!("line {line}: {message}")
        },
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| err(1, format!("cannot read the header row: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.len() < 2 {
        return Err(err(
            1,
            format!(
                "the header has {} column(s); at least one feature and a label are needed",
                headers.len()
            ),
        ));
    }
    let label_col = match label {
        Some(name) => headers.iter().position(|h| h == name).ok_or_else(|| {
            err(
                1,
                format!("no column named {name:?}; columns: {}", headers.join(", ")),
            )
        })?,
        None => headers.len() - 1,
    };
    let mut features = Vec::new();
    let mut labels_text = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let line = row + 2;
        let record = record.map_err(|e| err(line, format!("line {line}: {e}")))?;
        if record.len() != headers.len() {
            return Err(err(
                line,
                format!(
                    "line {line} has {} fields, the header has {}",
                    record.len(),
                    headers.len()
                ),
            ));
        }
        for (col, field) in record.iter().enumerate() {
            if col == label_col {
                if field.is_empty() {
                    return Err(err(
                        line,
                        format!(
                            "line {line}, column {} ({}): empty label",
                            col + 1,
                            headers[col]
                        ),
                    ));
                }
                labels_text.push(field.to_string());
                continue;
            }
            let value: f32 = field.parse().map_err(|_| {
                err(
                    line,
                    format!(
                        "line {line}, column {} ({}): {field:?} is not a number",
                        col + 1,
                        headers[col]
                    ),
                )
            })?;
            if !value.is_finite() {
                return Err(err(
                    line,
                    format!(
                        "line {line}, column {} ({}): {field:?} is not finite",
                        col + 1,
                        headers[col]
                    ),
                ));
            }
            features.push(value);
        }
    }
    if labels_text.is_empty() {
        return Err(err(2, "no data rows after the header".into()));
    }
    let as_ints: Option<Vec<u32>> = labels_text.iter().map(|l| l.parse::<u32>().ok()).collect();
    let (labels, names) = match as_ints {
        Some(ids) => {
            let classes = *ids.iter().max().expect("non-empty") as usize + 1;
            if classes > MAX_CLASSES {
                return Err(err(
                    2,
                    format!(
                        "label {} is above the {MAX_CLASSES}-class limit",
                        classes - 1
                    ),
                ));
            }
            (ids, (0..classes).map(|c| c.to_string()).collect::<Vec<_>>())
        }
        None => {
            let mut names = labels_text.clone();
            names.sort();
            names.dedup();
            if names.len() > MAX_CLASSES {
                return Err(err(
                    2,
                    format!("{} distinct labels; at most {MAX_CLASSES}", names.len()),
                ));
            }
            let ids = labels_text
                .iter()
                .map(|l| names.binary_search(l).expect("listed") as u32)
                .collect();
            (ids, names)
        }
    };
    if names.len() < 2 {
        return Err(err(
            2,
            "every row has the same label: at least 2 classes are needed".into(),
        ));
    }
    let dataset = Dataset {
        name: file.to_string(),
        shape: ExampleShape::Features(headers.len() - 1),
        examples: Examples::Dense(features),
        labels,
        num_classes: names.len(),
    };
    Ok((dataset, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_named_labels() {
        let (d, names) = decode_csv("x,y,label\n0.5,1,0\n-1,2e-3,1\n", "a.csv", None).unwrap();
        assert_eq!(d.shape, ExampleShape::Features(2));
        assert_eq!(d.examples, Examples::Dense(vec![0.5, 1.0, -1.0, 0.002]));
        assert_eq!(
            (d.labels.clone(), names),
            (vec![0, 1], vec!["0".to_string(), "1".into()])
        );
        let (d, names) =
            decode_csv("kind,w\ncat,1\ndog,2\ncat,3\n", "b.csv", Some("kind")).unwrap();
        assert_eq!(d.labels, vec![0, 1, 0]);
        assert_eq!(names, vec!["cat", "dog"]);
        assert_eq!(d.examples, Examples::Dense(vec![1.0, 2.0, 3.0]));
    }

    #[test]
    fn problems_name_line_and_column() {
        let cases = [
            ("x,label\n1,0\nabc,1\n", "line 3, column 1 (x)"),
            ("x,label\n1,0\n2\n", "line 3"),
            ("x,label\n1,0\nNaN,1\n", "not finite"),
            ("x,label\n1,0\n2,\n", "empty label"),
            ("x,label\n", "no data rows"),
            ("x,label\n1,0\n2,0\n", "same label"),
            ("label\n1\n", "at least one feature"),
        ];
        for (text, expected) in cases {
            let e = decode_csv(text, "u.csv", None).unwrap_err().to_string();
            assert!(e.contains("u.csv") && e.contains(expected), "{text:?}: {e}");
        }
        assert!(decode_csv("x,y\n1,0\n", "u.csv", Some("z"))
            .unwrap_err()
            .to_string()
            .contains("no column named"));
    }

    #[test]
    fn random_text_never_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let alphabet = b"0123456789,.-e\n\"ab ";
        for _ in 0..5000 {
            let text: String = (0..rng.random_range(0..60))
                .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
                .collect();
            let _ = decode_csv(&text, "fuzz.csv", None);
        }
    }
}
