//! How many examples a test fraction holds out: the one rule that toy sets, uploads and the
//! run's training size all use.

/// Examples of `examples` set aside for testing when `fraction` of them are: at least 1,
/// leaving at least 1 for training (0 when there are fewer than 2 examples).
pub fn held_out_size(examples: usize, fraction: f64) -> usize {
    if examples < 2 {
        return 0;
    }
    let wanted = if fraction.is_finite() {
        (examples as f64 * fraction.clamp(0.0, 1.0)).round() as usize
    } else {
        1
    };
    wanted.clamp(1, examples - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_sets_leave_both_sides_an_example() {
        assert_eq!(held_out_size(100, 0.25), 25);
        assert_eq!(held_out_size(10, 0.0), 1);
        assert_eq!(held_out_size(10, 1.0), 9);
        assert_eq!(held_out_size(2, 0.5), 1);
        assert_eq!(held_out_size(1, 0.5), 0);
        assert_eq!(held_out_size(0, 0.5), 0);
        assert_eq!(held_out_size(10, f64::NAN), 1);
    }
}
