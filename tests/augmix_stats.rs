//! Every random choice of the AugMix planner against the distribution of the released code
//! (`aug` of google-research/augmix), on at least 100k draws with fixed seeds: chi-square
//! for chain depths, operators and signs, Kolmogorov-Smirnov for the Dirichlet weights'
//! marginals and for `m`, moments where no closed-form CDF is at hand.

use pixmix::augmix::{AugMixPlan, MAX_DEPTH, MAX_WIDTH};
use pixmix::plan::{NO_OP, rank_seed};
use pixmix::{AugMixConfig, AugMixPlanner, Operator, Preset};

mod stats;

use stats::{chi_square_uniform, ks};

/// The CDF of Beta(a, b) for integer a, b: P(Binomial(a + b - 1, x) >= a).
fn beta_cdf_int(a: u32, b: u32) -> impl Fn(f64) -> f64 {
    let n = a + b - 1;
    move |x: f64| {
        let x = x.clamp(0.0, 1.0);
        (a..=n)
            .map(|j| {
                let binom = (0..j).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64);
                binom * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32)
            })
            .sum()
    }
}

/// Sample mean and variance against Beta(a, b)'s, within 6 standard errors.
fn beta_moments(name: &str, xs: &[f64], a: f64, b: f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let (em, ev) = (a / (a + b), a * b / ((a + b).powi(2) * (a + b + 1.0)));
    // Fourth central moment bounds the variance's standard error.
    let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    let (se_m, se_v) = ((ev / n).sqrt(), ((m4 - ev * ev) / n).sqrt());
    println!("{name}: mean {mean:.5} (expected {em:.5}), variance {var:.5} (expected {ev:.5})");
    assert!(
        (mean - em).abs() < 6.0 * se_m,
        "{name}: mean {mean}, expected {em}"
    );
    assert!(
        (var - ev).abs() < 6.0 * se_v,
        "{name}: variance {var}, expected {ev}"
    );
}

fn plans(config: &AugMixConfig, seed: u64, n: usize) -> Vec<AugMixPlan> {
    AugMixPlanner::new(config, seed)
        .unwrap()
        .plan(&vec![(40, 36); n])
        .unwrap()
}

#[test]
fn chain_depths_operators_and_signs_are_uniform() {
    for (all_ops, seed) in [(false, 1), (true, 2)] {
        let mut c = AugMixConfig::preset(Preset::Cifar);
        c.base.all_ops = all_ops;
        let ops: &[Operator] = c.base.operators();
        let plans = plans(&c, seed, 40_000);
        let mut depths = [0usize; MAX_DEPTH];
        let mut op_counts = vec![0usize; ops.len()];
        let mut signs = [0usize; 2];
        for p in &plans {
            assert_eq!(p.width, 3);
            for chain in 0..MAX_WIDTH {
                let d = p.depths[chain] as usize;
                if chain >= 3 {
                    assert_eq!(d, 0);
                    assert!(p.ops[chain].iter().all(|o| o.op == NO_OP));
                    continue;
                }
                depths[d - 1] += 1;
                for (k, o) in p.ops[chain].iter().enumerate() {
                    if k >= d {
                        assert_eq!(o.op, NO_OP, "operator past the chain's depth");
                        continue;
                    }
                    let op = Operator::from_id(o.op).unwrap();
                    op_counts[ops.iter().position(|x| *x == op).unwrap()] += 1;
                    if op.random_sign() && o.param != 0.0 {
                        signs[(o.param < 0.0) as usize] += 1;
                    }
                }
            }
        }
        chi_square_uniform(&format!("depth (all_ops {all_ops})"), &depths);
        chi_square_uniform(&format!("operator (all_ops {all_ops})"), &op_counts);
        chi_square_uniform(&format!("sign (all_ops {all_ops})"), &signs);
    }
    // A fixed depth is every chain's.
    let mut c = AugMixConfig::preset(Preset::Imagenet);
    (c.width, c.depth) = (MAX_WIDTH as u32, 2);
    for p in plans(&c, 3, 1000) {
        assert_eq!(p.depths, [2; MAX_WIDTH]);
        assert!(
            p.ops
                .iter()
                .all(|ch| ch[2].op == NO_OP && ch[1].op != NO_OP)
        );
    }
}

#[test]
fn weights_are_dirichlet_and_m_is_beta() {
    // (alpha, width, closed-form CDF of a marginal Beta(alpha, (width - 1) alpha), of m).
    type Cdf = Box<dyn Fn(f64) -> f64>;
    let cases: [(f64, u32, Cdf, Cdf); 3] = [
        (1.0, 3, Box::new(beta_cdf_int(1, 2)), Box::new(|x| x)),
        (
            2.0,
            4,
            Box::new(beta_cdf_int(2, 6)),
            Box::new(beta_cdf_int(2, 2)),
        ),
        (
            0.5,
            3,
            Box::new(|x: f64| x.clamp(0.0, 1.0).sqrt()),
            Box::new(|x: f64| 2.0 / std::f64::consts::PI * x.clamp(0.0, 1.0).sqrt().asin()),
        ),
    ];
    for (k, (alpha, width, weight_cdf, m_cdf)) in cases.into_iter().enumerate() {
        let mut c = AugMixConfig::preset(Preset::Cifar);
        (c.alpha, c.width) = (alpha, width);
        let plans = plans(&c, 10 + k as u64, 100_000);
        let name = format!("alpha {alpha} width {width}");
        for chain in 0..width as usize {
            let xs: Vec<f64> = plans.iter().map(|p| p.weights[chain] as f64).collect();
            ks(&format!("{name}: weight {chain}"), xs, &weight_cdf);
        }
        ks(
            &format!("{name}: m"),
            plans.iter().map(|p| p.m as f64).collect(),
            &m_cdf,
        );
        // The weights of a sample sum to 1 within the rounding of their float32 casts.
        let worst = plans
            .iter()
            .map(|p| (p.weights.iter().map(|&w| w as f64).sum::<f64>() - 1.0).abs())
            .fold(0.0, f64::max);
        println!("{name}: worst |sum of weights - 1| = {worst:e}");
        assert!(
            worst <= width as f64 * f32::EPSILON as f64 / 2.0,
            "{name}: {worst}"
        );
        assert!(
            plans
                .iter()
                .all(|p| p.weights[width as usize..].iter().all(|&w| w == 0.0))
        );
        // Two weights of a sample are negatively correlated, as a Dirichlet's:
        // cov = -alpha^2 / (A^2 (A + 1)) with A = width * alpha.
        let a0 = width as f64 * alpha;
        let expected = -alpha * alpha / (a0 * a0 * (a0 + 1.0));
        let n = plans.len() as f64;
        let mean = |i: usize| plans.iter().map(|p| p.weights[i] as f64).sum::<f64>() / n;
        let (m0, m1) = (mean(0), mean(1));
        let cov = plans
            .iter()
            .map(|p| (p.weights[0] as f64 - m0) * (p.weights[1] as f64 - m1))
            .sum::<f64>()
            / (n - 1.0);
        println!("{name}: cov(w0, w1) = {cov:.6} (expected {expected:.6})");
        assert!(
            (cov - expected).abs() < 0.1 * expected.abs(),
            "{name}: cov {cov}"
        );
    }
    // Small alpha (rand_distr's Beta-based Dirichlet) and a single chain.
    let mut c = AugMixConfig::preset(Preset::Cifar);
    (c.alpha, c.width) = (0.05, 2);
    let p = plans(&c, 20, 100_000);
    let w0: Vec<f64> = p.iter().map(|p| p.weights[0] as f64).collect();
    beta_moments("alpha 0.05 width 2: weight 0", &w0, 0.05, 0.05);
    let m: Vec<f64> = p.iter().map(|p| p.m as f64).collect();
    beta_moments("alpha 0.05: m", &m, 0.05, 0.05);
    c.width = 1;
    assert!(plans(&c, 21, 1000).iter().all(|p| p.weights[0] == 1.0));
}

#[test]
fn plans_are_reproducible_and_batch_independent() {
    for preset in Preset::ALL {
        let c = AugMixConfig::preset(preset);
        let sizes: Vec<_> = (0..10).map(|i| (240 + i, 250 - i)).collect();
        let whole = AugMixPlanner::new(&c, 7).unwrap().plan(&sizes).unwrap();
        let mut split = AugMixPlanner::new(&c, 7).unwrap();
        let mut parts = split.plan(&sizes[..3]).unwrap();
        parts.extend(split.plan(&sizes[3..]).unwrap());
        assert_eq!(whole, parts, "{preset}");
        assert_eq!(split.position(), 10);
        // The JSD views: the first is the plain plan, the second shares its train
        // transform and nothing else.
        let jsd = AugMixPlanner::new(&c, 7).unwrap().plan_jsd(&sizes).unwrap();
        assert_eq!(&jsd[..10], &whole[..], "{preset}");
        for i in 0..10 {
            assert!(jsd[10 + i].same_train(&jsd[i]));
            assert_ne!(jsd[10 + i].weights, jsd[i].weights);
        }
        // Seeking resumes; other seeds and ranks give other plans.
        let mut resumed = AugMixPlanner::new(&c, 7).unwrap();
        resumed.seek(4);
        assert_eq!(resumed.plan(&sizes[4..]).unwrap(), &whole[4..]);
        let other = AugMixPlanner::new(&c, rank_seed(7, 1))
            .unwrap()
            .plan(&sizes)
            .unwrap();
        assert!(
            other
                .iter()
                .zip(&whole)
                .all(|(a, b)| a.weights != b.weights)
        );
    }
}

#[test]
fn config_bounds_are_checked() {
    let ok = AugMixConfig::preset(Preset::Cifar);
    ok.validate().unwrap();
    let cases: [fn(&mut AugMixConfig); 8] = [
        |c| c.width = 0,
        |c| c.width = MAX_WIDTH as u32 + 1,
        |c| c.depth = 0,
        |c| c.depth = -2,
        |c| c.depth = MAX_DEPTH as i32 + 1,
        |c| c.alpha = 0.0,
        |c| c.alpha = f64::NAN,
        |c| c.base.severity = 11,
    ];
    for (i, f) in cases.iter().enumerate() {
        let mut c = ok.clone();
        f(&mut c);
        assert!(AugMixPlanner::new(&c, 0).is_err(), "case {i} accepted");
    }
    assert_eq!(std::mem::size_of::<AugMixPlan>(), 488);
}
