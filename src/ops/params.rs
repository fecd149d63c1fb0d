//! Severity-to-parameter helpers of the released code.

/// `int(level * maxval / 10)`: truncation toward zero, as Python's `int`.
pub fn int_param(level: f64, maxval: f64) -> i64 {
    (level * maxval / 10.0) as i64
}

/// `float(level) * maxval / 10.`
pub fn float_param(level: f64, maxval: f64) -> f64 {
    level * maxval / 10.0
}
