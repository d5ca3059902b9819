//! User data as CSV: numeric feature columns and one label column (integers or class names).
//! Every problem is reported with its line and column; nothing is partially loaded.

use std::collections::BTreeMap;

use super::config::MAX_CLASS_NAME_CHARS;
use super::dataset::{Dataset, ExampleShape, Examples};
use super::DataError;

/// Most classes a CSV dataset may have (distinct labels, or the largest integer label + 1).
pub const MAX_CLASSES: usize = 1000;

/// Most feature columns of a CSV file (100,000): the most inputs an MLP reads
/// (`model.inputs`). With the label, a row has at most `MAX_FEATURES + 1` fields.
pub const MAX_FEATURES: usize = crate::model::validation::MAX_INPUTS;

/// Most data rows of a CSV file (the header not counted).
pub const MAX_ROWS: usize = 1_000_000;

/// Most feature values of a CSV file (rows x features): 50,000,000 values are 200 MB as f32,
/// and MNIST's 60,000 x 784 pixels (47,040,000) fit.
pub const MAX_VALUES: usize = 50_000_000;

/// The limits a CSV file is read under: the stated ones ([`LIMITS`]), or lower ones in tests.
#[derive(Debug, Clone, Copy)]
struct Limits {
    features: usize,
    rows: usize,
    values: usize,
    classes: usize,
}

/// The limits of [`decode_csv`].
const LIMITS: Limits = Limits {
    features: MAX_FEATURES,
    rows: MAX_ROWS,
    values: MAX_VALUES,
    classes: MAX_CLASSES,
};

/// How the CSV reader (csv-core's defaults: `,` between fields, `"` quoting with `""` inside,
/// CR, LF or CRLF ending a record, blank lines skipped) stands after a byte.
#[derive(Clone, Copy, PartialEq)]
enum Scan {
    StartRecord,
    StartField,
    InField,
    InQuotes,
    QuoteInQuotes,
}

/// Counts the fields of every record of `text` as the csv crate will split them, without
/// storing anything, and refuses a file beyond [`MAX_FEATURES`], [`MAX_ROWS`] or
/// [`MAX_VALUES`] before the csv crate reads (and allocates for) a single record. Returns the
/// number of records after the header.
fn check_size(
    text: &str,
    limits: Limits,
    err: &dyn Fn(usize, String) -> DataError,
) -> Result<usize, DataError> {
    let Limits {
        features: max_features,
        rows: max_rows,
        values: max_values,
        ..
    } = limits;
    let max_fields = max_features + 1;
    let (mut state, mut line, mut record_line) = (Scan::StartRecord, 1usize, 1usize);
    let (mut fields, mut header_fields, mut rows) = (0usize, None::<usize>, 0usize);
    // At the end of each record: the header's width, then each row against the limits.
    let mut end_record = |fields: usize, line: usize, header: &mut Option<usize>| {
        let Some(header) = *header else {
            *header = Some(fields);
            return Ok(());
        };
        rows += 1;
        if rows > max_rows {
            return Err(err(
                line,
                format!("more than {max_rows} data rows; a CSV file may have at most {max_rows}"),
            ));
        }
        let values = (rows as u64).saturating_mul(header.saturating_sub(1) as u64);
        if values > max_values as u64 {
            return Err(err(
                line,
                format!(
                    "more than {max_values} feature values (rows x features); a CSV file may \
                     have at most {max_values}"
                ),
            ));
        }
        Ok(())
    };
    for &b in text.as_bytes() {
        let term = b == b'\n' || b == b'\r';
        if state == Scan::StartRecord {
            if term {
                line += usize::from(b == b'\n');
                continue;
            }
            (state, fields, record_line) = (Scan::StartField, 1, line);
        }
        state = match (state, b) {
            (Scan::StartField, b'"') => Scan::InQuotes,
            (Scan::InQuotes, b'"') => Scan::QuoteInQuotes,
            (Scan::QuoteInQuotes, b'"') => Scan::InQuotes,
            (Scan::InQuotes, _) => Scan::InQuotes,
            (_, b',') => {
                fields += 1;
                if fields > max_fields {
                    let what = match header_fields {
                        Some(_) => "the row",
                        None => "the header",
                    };
                    return Err(err(
                        record_line,
                        format!(
                            "{what} has more than {max_fields} fields; a CSV file may have at \
                             most {max_features} feature columns and the label"
                        ),
                    ));
                }
                Scan::StartField
            }
            (_, b'\n' | b'\r') => {
                end_record(fields, record_line, &mut header_fields)?;
                Scan::StartRecord
            }
            _ => Scan::InField,
        };
        line += usize::from(b == b'\n');
    }
    if state != Scan::StartRecord {
        end_record(fields, record_line, &mut header_fields)?;
    }
    Ok(rows)
}

/// Parses CSV text with a header row. `label` names the label column (default: the last one).
/// Labels that are all non-negative integers are used as class ids; otherwise each distinct
/// label becomes a class, in sorted order. Returns the dataset and the class names.
///
/// Refused, with the line and the limit: more than [`MAX_FEATURES`] feature columns,
/// [`MAX_ROWS`] rows, [`MAX_VALUES`] values or [`MAX_CLASSES`] classes. Nothing is allocated
/// for the data before the file's size in rows and columns is checked: at most the features
/// (4 bytes a value), 4 bytes a row for the labels, the header's names and up to
/// [`MAX_CLASSES`] distinct labels.
pub fn decode_csv(
    text: &str,
    file: &str,
    label: Option<&str>,
) -> Result<(Dataset, Vec<String>), DataError> {
    decode_csv_within(text, file, label, LIMITS)
}

/// [`decode_csv`] under `limits`.
fn decode_csv_within(
    text: &str,
    file: &str,
    label: Option<&str>,
    limits: Limits,
) -> Result<(Dataset, Vec<String>), DataError> {
    let max_classes = limits.classes;
    let err = |line: usize, message: String| DataError::Text {
        file: file.into(),
        line,
        message: if message.starts_with("line ") {
            message
        } else {
            format!("line {line}: {message}")
        },
    };
    let rows = check_size(text, limits, &err)?;
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
    // Exact sizes from the check above (at most MAX_VALUES and MAX_ROWS): no regrowth.
    let mut features = Vec::with_capacity(rows * (headers.len() - 1));
    // Per row, the index of its label among the distinct labels (in order of appearance).
    let mut label_index: Vec<u32> = Vec::with_capacity(rows);
    // Each distinct label: its index and the first line it is on.
    let mut distinct: BTreeMap<String, (u32, usize)> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        let line = row + 2;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(err(line, format!("line {line}: {e}"))),
        }
        row += 1;
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
                if field.chars().count() > MAX_CLASS_NAME_CHARS {
                    return Err(err(
                        line,
                        format!(
                            "line {line}, column {} ({}): a label of {} characters; at most \
                             {MAX_CLASS_NAME_CHARS}",
                            col + 1,
                            headers[col],
                            field.chars().count()
                        ),
                    ));
                }
                let next = distinct.len() as u32;
                let index = match distinct.get(field) {
                    Some(&(index, _)) => index,
                    None if distinct.len() == max_classes => {
                        return Err(err(
                            line,
                            format!(
                                "line {line}, column {} ({}): label {field:?} is one more \
                                 distinct label than the {max_classes} classes a dataset may \
                                 have",
                                col + 1,
                                headers[col]
                            ),
                        ))
                    }
                    None => {
                        distinct.insert(field.to_string(), (next, line));
                        next
                    }
                };
                label_index.push(index);
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
    if label_index.is_empty() {
        return Err(err(2, "no data rows after the header".into()));
    }
    // Class id of each distinct label (by its index): the integer itself when every label is
    // one, otherwise its place in sorted order (a BTreeMap's order).
    let mut class_of = vec![0u32; distinct.len()];
    let as_ints: Option<Vec<(u32, u32, usize)>> = distinct
        .iter()
        .map(|(l, &(index, line))| l.parse::<u32>().ok().map(|id| (index, id, line)))
        .collect();
    let names = match as_ints {
        Some(ids) => {
            let &(_, max, line) = ids.iter().max_by_key(|(_, id, _)| *id).expect("non-empty");
            if max as usize >= max_classes {
                return Err(err(
                    line,
                    format!("label {max} is above the {max_classes}-class limit"),
                ));
            }
            for (index, id, _) in ids {
                class_of[index as usize] = id;
            }
            (0..=max).map(|c| c.to_string()).collect::<Vec<_>>()
        }
        None => {
            for (rank, &(index, _)) in distinct.values().enumerate() {
                class_of[index as usize] = rank as u32;
            }
            distinct.into_keys().collect()
        }
    };
    if names.len() < 2 {
        return Err(err(
            2,
            "every row has the same label: at least 2 classes are needed".into(),
        ));
    }
    for l in &mut label_index {
        *l = class_of[*l as usize];
    }
    let dataset = Dataset {
        name: file.to_string(),
        shape: ExampleShape::Features(headers.len() - 1),
        examples: Examples::Dense(features),
        labels: label_index,
        num_classes: names.len(),
        targets: None,
    };
    Ok((dataset, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_longer_than_a_class_name_may_be_is_refused() {
        let long = "w".repeat(MAX_CLASS_NAME_CHARS + 1);
        let ok = "v".repeat(MAX_CLASS_NAME_CHARS);
        let text = format!("x,label\n1,{ok}\n2,{long}\n");
        let e = decode_csv(&text, "a.csv", None).unwrap_err().to_string();
        assert!(
            e.contains("line 3, column 2 (label): a label of 201 characters; at most 200"),
            "{e}"
        );
    }

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

    fn refused(text: &str, limits: Limits) -> String {
        decode_csv_within(text, "big.csv", None, limits)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_stated_limits_refuse_with_their_values() {
        // A header one column too wide: refused before any row is read.
        let wide = format!("{}label\n", "a,".repeat(MAX_FEATURES + 1));
        assert_eq!(
            decode_csv(&wide, "big.csv", None).unwrap_err().to_string(),
            "big.csv, line 1: the header has more than 100001 fields; a CSV file may have at \
             most 100000 feature columns and the label"
        );
        // Exactly MAX_FEATURES features read.
        let widest = format!(
            "{}label\n{}0\n{}1\n",
            "a,".repeat(MAX_FEATURES),
            "0,".repeat(MAX_FEATURES),
            "1,".repeat(MAX_FEATURES)
        );
        let (d, _) = decode_csv(&widest, "w.csv", None).unwrap();
        assert_eq!(d.shape, ExampleShape::Features(MAX_FEATURES));
        // A row one field too wide (the header is fine): refused at its line.
        let wide_row = format!("x,label\n1,0\n{}0\n", "1,".repeat(MAX_FEATURES + 1));
        let e = decode_csv(&wide_row, "big.csv", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("big.csv, line 3: the row has more than 100001 fields"),
            "{e}"
        );
        // One row too many.
        let long = format!("x,label\n{}", "1,0\n2,1\n".repeat(MAX_ROWS / 2 + 1));
        assert_eq!(
            decode_csv(&long, "big.csv", None).unwrap_err().to_string(),
            "big.csv, line 1000002: more than 1000000 data rows; a CSV file may have at most \
             1000000"
        );
        // One class too many, as names or as integers.
        let classes: String = (0..=MAX_CLASSES).map(|c| format!("1,c{c}\n")).collect();
        let e = decode_csv(&format!("x,label\n{classes}"), "big.csv", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "big.csv, line 1002, column 2 (label): label \"c1000\" is one more distinct label \
                 than the 1000 classes a dataset may have"
            ),
            "{e}"
        );
        let e = decode_csv("x,label\n1,0\n2,1\n3,1000\n", "big.csv", None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "big.csv, line 4: label 1000 is above the 1000-class limit"
        );
        assert!(decode_csv("x,label\n1,0\n3,999\n", "ok.csv", None).is_ok());
    }

    #[test]
    fn lowered_limits_show_each_check() {
        let limits = Limits {
            features: 3,
            rows: 4,
            values: 10,
            classes: 3,
        };
        assert!(refused("a,b,c,d,label\n1,2,3,4,0\n", limits)
            .ends_with("line 1: the header has more than 4 fields; a CSV file may have at most 3 feature columns and the label"));
        assert!(
            refused("a,b,label\n1,2,0\n1,2,1\n1,2,0\n1,2,1\n1,2,0\n", limits)
                .ends_with("line 6: more than 4 data rows; a CSV file may have at most 4")
        );
        assert!(refused("a,b,c,label\n1,2,3,0\n1,2,3,1\n1,2,3,0\n1,2,3,1\n", limits)
            .ends_with("line 5: more than 10 feature values (rows x features); a CSV file may have at most 10"));
        assert!(refused("a,label\n1,x\n2,y\n3,z\n4,w\n", limits).contains(
            "line 5, column 2 (label): label \"w\" is one more distinct label than the 3 classes"
        ));
        // Quoted commas and line breaks are inside a field, as the csv crate reads them.
        let (d, names) = decode_csv_within(
            "a,label\n1,\"x,y,z,w\"\n2,\"p\nq,r,s\"\n\n3,\"x,y,z,w\"\n",
            "q.csv",
            None,
            limits,
        )
        .unwrap();
        assert_eq!((d.len(), names.len()), (3, 2));
        // A quote inside an unquoted field is a plain character: the commas after it count.
        assert!(
            refused("a,label\n1,x\"y,2,3,4,5\n", limits).contains("the row has more than 4 fields")
        );
    }

    #[test]
    fn the_size_check_counts_fields_as_the_csv_crate_does() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let alphabet = b",,,\"\"\n\r ab1";
        let limits = Limits {
            features: usize::MAX / 4,
            rows: usize::MAX / 4,
            values: usize::MAX,
            classes: usize::MAX,
        };
        for _ in 0..3000 {
            let text: String = (0..rng.random_range(0..40))
                .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
                .collect();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            let widths: Vec<usize> = reader.records().map(|r| r.unwrap().len()).collect();
            let rows = check_size(&text, limits, &|_, m| DataError::Text {
                file: String::new(),
                line: 0,
                message: m,
            })
            .unwrap();
            assert_eq!(rows, widths.len().saturating_sub(1), "{text:?}");
            let widest = widths.iter().copied().max().unwrap_or(0);
            if widest > 1 {
                let narrower = Limits {
                    features: widest - 2,
                    ..limits
                };
                let e = check_size(&text, narrower, &|_, m| DataError::Text {
                    file: String::new(),
                    line: 0,
                    message: m,
                });
                assert!(e.is_err(), "{text:?}: {widths:?}");
            }
            let exact = Limits {
                features: widest.saturating_sub(1),
                ..limits
            };
            assert!(check_size(&text, exact, &|_, m| DataError::Text {
                file: String::new(),
                line: 0,
                message: m,
            })
            .is_ok());
        }
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
