//! Reading back floats that JSON wrote as `null`: serde_json writes a NaN or infinite float as
//! `null` (JSON has no NaN), and a diverged model's outputs, gradients and norms are NaN. A
//! field read with these takes `null` as NaN, so the message (or record) that carries it still
//! reads, and says what went wrong.

use serde::{Deserialize, Deserializer};

/// An `f32` that may have been written as `null`.
pub fn f32_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NAN))
}

/// `f32`s any of which may have been written as `null`.
pub fn f32s_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    Ok(Vec::<Option<f32>>::deserialize(d)?
        .into_iter()
        .map(|v| v.unwrap_or(f32::NAN))
        .collect())
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug)]
    struct Figures {
        #[serde(deserialize_with = "super::f32_or_nan")]
        one: f32,
        #[serde(deserialize_with = "super::f32s_or_nan")]
        many: Vec<f32>,
    }

    #[test]
    fn non_finite_floats_read_back_as_nan() {
        let text = serde_json::to_string(&Figures {
            one: f32::INFINITY,
            many: vec![0.5, f32::NAN],
        })
        .unwrap();
        assert_eq!(text, r#"{"one":null,"many":[0.5,null]}"#);
        let back: Figures = serde_json::from_str(&text).unwrap();
        assert!(back.one.is_nan());
        assert_eq!(back.many[0], 0.5);
        assert!(back.many[1].is_nan());
    }
}
