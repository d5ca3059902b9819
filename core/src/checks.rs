//! What every config's validation reports: [`ConfigError`] (a field, its value, what is
//! allowed) and the checker that collects them. Datasets, models and whole runs each check
//! their own fields with it.

/// A setting outside its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} = {value}: {message}")]
pub struct ConfigError {
    /// Path of the field, e.g. `model.hidden[1].units`.
    pub field: String,
    /// The value given.
    pub value: String,
    /// What is allowed.
    pub message: String,
}

/// Collects the problems of a config, each naming its field.
#[derive(Debug, Default)]
pub(crate) struct Checker(pub(crate) Vec<ConfigError>);

impl Checker {
    /// Records a problem.
    pub(crate) fn fail(
        &mut self,
        field: impl Into<String>,
        value: impl ToString,
        message: impl Into<String>,
    ) {
        self.0.push(ConfigError {
            field: field.into(),
            value: value.to_string(),
            message: message.into(),
        });
    }

    /// `value` must be in `lo..=hi`.
    pub(crate) fn range(&mut self, field: impl Into<String>, value: usize, lo: usize, hi: usize) {
        if !(lo..=hi).contains(&value) {
            self.fail(field, value, format!("must be in {lo}..={hi}"));
        }
    }

    /// `value` must be a finite fraction in [0, 1).
    pub(crate) fn unit(&mut self, field: impl Into<String>, value: f64, what: &str) {
        if !(value.is_finite() && (0.0..1.0).contains(&value)) {
            self.fail(field, value, format!("{what} must be in [0, 1)"));
        }
    }

    /// `value` must be a finite fraction in (0, 1) (a test split's share).
    pub(crate) fn open_unit(&mut self, field: impl Into<String>, value: f64) {
        if !(value.is_finite() && value > 0.0 && value < 1.0) {
            self.fail(field, value, "must be in (0, 1)");
        }
    }

    /// An L2 coefficient must be in [0, 10].
    pub(crate) fn l2(&mut self, field: impl Into<String>, value: f64) {
        if !(value.is_finite() && (0.0..=10.0).contains(&value)) {
            self.fail(field, value, "L2 must be in [0, 10]");
        }
    }

    /// The problems found.
    pub(crate) fn into_problems(self) -> Vec<ConfigError> {
        self.0
    }
}
