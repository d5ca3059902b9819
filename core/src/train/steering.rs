//! Steering: hyper-parameters changed while a run is paused (learning rate, SGD momentum, the
//! layers' L2, dropout), each recorded with the batch it takes effect at. A run's
//! [`super::TrainingConfig::steering`] lists them; the trainers apply each before training
//! its batch, so a share link, Reproduce and `kindling train --link` replay the same run.

use serde::{Deserialize, Serialize};

use crate::checks::Checker;

/// Most changes one run records (a link carries them all).
pub const MAX_STEERS: usize = 200;

/// One change of hyper-parameters, from batch `at_step` on (counted over the whole run: the
/// change applies before the run's batch number `at_step + 1` trains). A field left `None`
/// keeps its value.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Default)]
pub struct Steer {
    /// Batches trained before the change.
    pub at_step: usize,
    /// The optimizer's learning rate, in (0, 10].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// SGD momentum, in [0, 1) (SGD only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// The L2 coefficient of every dense layer, in [0, 10].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2: Option<f64>,
    /// The rate of every dropout layer, in [0, 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f64>,
}

/// A run's changes, in batch order: a list that a config written before steering existed
/// (no `steering` field) reads as empty. (burn's `Config` derive drops serde's field
/// attributes, so the type itself reads a missing field as none.)
#[derive(Serialize, Debug, Clone, PartialEq, Default)]
#[serde(transparent)]
pub struct Steering(pub Vec<Steer>);

impl<'de> Deserialize<'de> for Steering {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A missing field deserialises as `None` through `deserialize_option`.
        Option::<Vec<Steer>>::deserialize(deserializer).map(|s| Steering(s.unwrap_or_default()))
    }
}

impl std::ops::Deref for Steering {
    type Target = Vec<Steer>;
    fn deref(&self) -> &Vec<Steer> {
        &self.0
    }
}

impl std::ops::DerefMut for Steering {
    fn deref_mut(&mut self) -> &mut Vec<Steer> {
        &mut self.0
    }
}

impl From<Vec<Steer>> for Steering {
    fn from(changes: Vec<Steer>) -> Self {
        Steering(changes)
    }
}

/// The hyper-parameters a run trains with at some batch: its config's, then its changes'.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Default)]
pub struct LiveSettings {
    /// Learning rate.
    pub learning_rate: f64,
    /// SGD momentum (0 for another optimizer).
    pub momentum: f64,
    /// The largest L2 coefficient of the dense layers (a change sets all of them).
    pub l2: f64,
    /// The largest dropout rate (a change sets every dropout layer).
    pub dropout: f64,
}

impl Steer {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.learning_rate.is_none()
            && self.momentum.is_none()
            && self.l2.is_none()
            && self.dropout.is_none()
    }

    /// `other`'s fields over this one's (two changes at the same batch: the later wins).
    pub fn merged(self, other: &Steer) -> Steer {
        Steer {
            at_step: self.at_step,
            learning_rate: other.learning_rate.or(self.learning_rate),
            momentum: other.momentum.or(self.momentum),
            l2: other.l2.or(self.l2),
            dropout: other.dropout.or(self.dropout),
        }
    }

    /// What it changes, for a marker: "learning rate 0.01, L2 0".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.learning_rate {
            parts.push(format!("learning rate {}", short(v)));
        }
        if let Some(v) = self.momentum {
            parts.push(format!("momentum {}", short(v)));
        }
        if let Some(v) = self.l2 {
            parts.push(format!("L2 {}", short(v)));
        }
        if let Some(v) = self.dropout {
            parts.push(format!("dropout {}", short(v)));
        }
        parts.join(", ")
    }

    /// The settings after this change.
    pub fn apply_to(&self, settings: &mut LiveSettings) {
        if let Some(v) = self.learning_rate {
            settings.learning_rate = v;
        }
        if let Some(v) = self.momentum {
            settings.momentum = v;
        }
        if let Some(v) = self.l2 {
            settings.l2 = v;
        }
        if let Some(v) = self.dropout {
            settings.dropout = v;
        }
    }

    /// Checks each value's range (`field` names the change, as `training.steering[3]`).
    pub(crate) fn check_values(&self, field: &str, c: &mut Checker) {
        if self.is_empty() {
            c.fail(field, "{}", "a change must set at least one value");
        }
        if let Some(lr) = self.learning_rate {
            if !(lr.is_finite() && lr > 0.0 && lr <= 10.0) {
                c.fail(format!("{field}.learning_rate"), lr, "must be in (0, 10]");
            }
        }
        if let Some(m) = self.momentum {
            c.unit(format!("{field}.momentum"), m, "momentum");
        }
        if let Some(l2) = self.l2 {
            c.l2(format!("{field}.l2"), l2);
        }
        if let Some(d) = self.dropout {
            c.unit(format!("{field}.dropout"), d, "dropout");
        }
    }
}

/// A value as short as it reads exactly: 0.01, 0.5, 1e-5.
fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e4) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Walks a run's changes in order: [`SteeringCursor::due`] gives the (merged) change to apply
/// before a batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct SteeringCursor {
    next: usize,
}

impl SteeringCursor {
    /// The changes of `steering` due before the batch after `trained` batches, merged into one
    /// (`None`: nothing changes). Changes recorded for an earlier batch that were not applied
    /// yet (none, in a run replayed from the start) apply now.
    pub fn due(&mut self, steering: &[Steer], trained: usize) -> Option<Steer> {
        let mut out: Option<Steer> = None;
        while let Some(s) = steering.get(self.next).filter(|s| s.at_step <= trained) {
            out = Some(match out {
                None => *s,
                Some(o) => o.merged(s),
            });
            self.next += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lr(at_step: usize, v: f64) -> Steer {
        Steer {
            at_step,
            learning_rate: Some(v),
            ..Steer::default()
        }
    }

    #[test]
    fn the_cursor_gives_each_change_once_at_its_batch_and_merges_changes_of_one_batch() {
        let steering = [
            lr(2, 0.1),
            Steer {
                at_step: 2,
                l2: Some(0.01),
                ..Steer::default()
            },
            lr(5, 0.01),
        ];
        let mut cursor = SteeringCursor::default();
        assert_eq!(cursor.due(&steering, 0), None);
        assert_eq!(cursor.due(&steering, 1), None);
        let at_2 = cursor.due(&steering, 2).unwrap();
        assert_eq!(at_2.learning_rate, Some(0.1));
        assert_eq!(at_2.l2, Some(0.01));
        assert_eq!(cursor.due(&steering, 2), None, "given once");
        assert_eq!(cursor.due(&steering, 4), None);
        assert_eq!(cursor.due(&steering, 5), Some(lr(5, 0.01)));
        assert_eq!(cursor.due(&steering, 9), None);
    }

    #[test]
    fn a_later_change_of_one_batch_wins_and_settings_follow_changes() {
        let merged = lr(3, 0.1).merged(&lr(3, 0.2));
        assert_eq!(merged.learning_rate, Some(0.2));
        let mut settings = LiveSettings {
            learning_rate: 1.0,
            momentum: 0.0,
            l2: 0.0,
            dropout: 0.5,
        };
        Steer {
            at_step: 1,
            momentum: Some(0.9),
            dropout: Some(0.0),
            ..Steer::default()
        }
        .apply_to(&mut settings);
        assert_eq!(settings.learning_rate, 1.0);
        assert_eq!(settings.momentum, 0.9);
        assert_eq!(settings.dropout, 0.0);
    }

    #[test]
    fn a_change_says_what_it_changes_and_serialises_only_what_it_sets() {
        let s = Steer {
            at_step: 40,
            learning_rate: Some(0.01),
            l2: Some(1e-5),
            ..Steer::default()
        };
        assert_eq!(s.describe(), "learning rate 0.01, L2 1e-5");
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"at_step":40,"learning_rate":0.01,"l2":0.00001}"#);
        assert_eq!(serde_json::from_str::<Steer>(&json).unwrap(), s);
    }

    #[test]
    fn out_of_range_values_and_empty_changes_are_named() {
        let mut c = Checker::default();
        Steer {
            at_step: 1,
            learning_rate: Some(f64::NAN),
            momentum: Some(1.0),
            l2: Some(-1.0),
            dropout: Some(1.5),
        }
        .check_values("training.steering[0]", &mut c);
        Steer::default().check_values("training.steering[1]", &mut c);
        let fields: Vec<String> = c.into_problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "training.steering[0].learning_rate",
                "training.steering[0].momentum",
                "training.steering[0].l2",
                "training.steering[0].dropout",
                "training.steering[1]",
            ]
        );
    }
}
