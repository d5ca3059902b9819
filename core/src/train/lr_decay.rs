//! The learning rate's decay: a factor the rate is multiplied by at the end of every epoch
//! (Keras's `ExponentialDecay` with `staircase=True` over an epoch's batches, PyTorch's
//! `ExponentialLR` stepped once an epoch).

use serde::{Deserialize, Serialize};

/// The factor, in (0, 1]; 1 (the default) keeps the rate constant. A config written before
/// the decay existed (no `lr_decay` field) reads as 1. (burn's `Config` derive drops serde's
/// field attributes, so the type itself reads a missing field as none.)
#[derive(Serialize, Debug, Clone, Copy, PartialEq)]
#[serde(transparent)]
pub struct LrDecay(pub f64);

impl LrDecay {
    /// A constant rate.
    pub const NONE: LrDecay = LrDecay(1.0);

    /// Whether the rate stays constant.
    pub fn is_none(self) -> bool {
        self.0 == 1.0
    }
}

impl Default for LrDecay {
    fn default() -> Self {
        LrDecay::NONE
    }
}

impl<'de> Deserialize<'de> for LrDecay {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A missing field deserialises as `None` through `deserialize_option`.
        Option::<f64>::deserialize(deserializer).map(|f| f.map_or(LrDecay::NONE, LrDecay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_written_as_a_plain_number_and_read_back() {
        assert_eq!(serde_json::to_string(&LrDecay(0.35)).unwrap(), "0.35");
        assert_eq!(
            serde_json::from_str::<LrDecay>("0.35").unwrap(),
            LrDecay(0.35)
        );
        assert_eq!(
            serde_json::from_str::<LrDecay>("null").unwrap(),
            LrDecay::NONE
        );
        assert!(serde_json::from_str::<LrDecay>("\"fast\"").is_err());
    }
}
