//! Goodness-of-fit tests shared by the planners' distribution tests.
#![allow(dead_code)]

/// Chi-square critical value for `df` degrees of freedom at p = 1e-6 (Wilson-Hilferty).
pub fn chi2_critical(df: usize) -> f64 {
    let d = df as f64;
    let z = 4.753;
    d * (1.0 - 2.0 / (9.0 * d) + z * (2.0 / (9.0 * d)).sqrt()).powi(3)
}

/// Chi-square of `counts` against category probabilities `probs` (zero-probability
/// categories must stay empty), asserted below the p = 1e-6 bound.
pub fn chi_square(name: &str, counts: &[usize], probs: &[f64]) {
    let n: usize = counts.iter().sum();
    let stat: f64 = counts
        .iter()
        .zip(probs)
        .filter(|(_, p)| **p > 0.0)
        .map(|(&c, &p)| {
            let e = n as f64 * p;
            (c as f64 - e).powi(2) / e
        })
        .sum();
    for (c, p) in counts.iter().zip(probs) {
        assert!(*p > 0.0 || *c == 0, "{name}: impossible category drawn");
    }
    let df = probs.iter().filter(|p| **p > 0.0).count() - 1;
    if df == 0 {
        println!("{name}: a single possible value, drawn {n} times");
        return;
    }
    let crit = chi2_critical(df);
    println!("{name}: chi2 = {stat:.1} (df {df}, critical {crit:.1}, n {n})");
    assert!(
        stat < crit,
        "{name}: chi2 {stat} >= {crit}; counts {counts:?}"
    );
}

/// `k` equally likely categories.
pub fn uniform(k: usize) -> Vec<f64> {
    vec![1.0 / k as f64; k]
}

/// Chi-square of `counts` against equally likely categories.
pub fn chi_square_uniform(name: &str, counts: &[usize]) {
    chi_square(name, counts, &uniform(counts.len()));
}

/// Kolmogorov-Smirnov distance of `xs` to `cdf`, asserted below the p = 0.001 bound.
pub fn ks(name: &str, mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) {
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    let d = xs
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
        })
        .fold(0.0, f64::max);
    let crit = 1.95 / n.sqrt();
    println!("{name}: KS D = {d:.5} (critical {crit:.5}, n {n})");
    assert!(d < crit, "{name}: KS distance {d} >= {crit}");
}
