//! Every random choice of the planner against the distribution of the released code, on
//! at least 100k draws with fixed seeds: chi-square for categorical choices,
//! Kolmogorov-Smirnov for continuous ones.

use pixmix::plan::{BatchPlan, MIX_ADD, NO_OP, SOURCE_AUGMENTED, SOURCE_MIXING};
use pixmix::{Config, Operator, Planner, Preset};

const N: usize = 120_000;

mod stats;

use stats::{chi_square, ks, uniform};

fn plan(
    config: &Config,
    seed: u64,
    n: usize,
    image: (usize, usize),
    mixing: &[(usize, usize)],
) -> BatchPlan {
    Planner::new(config, seed)
        .unwrap()
        .plan(&vec![image; n], mixing)
        .unwrap()
}

const MIXING: [(usize, usize); 7] = [
    (36, 36),
    (48, 36),
    (36, 40),
    (36, 36),
    (54, 36),
    (36, 37),
    (40, 36),
];

#[test]
fn categorical_choices_are_uniform() {
    let config = Config::preset(Preset::Cifar);
    let p = plan(&config, 1, N, (32, 32), &MIXING);
    let count = |f: &dyn Fn(usize) -> usize, k: usize| {
        let mut c = vec![0; k];
        for i in 0..p.len() {
            c[f(i)] += 1;
        }
        c
    };
    let s = &p.samples;
    chi_square("flip", &count(&|i| s[i].flip as usize, 2), &uniform(2));
    chi_square(
        "crop x (pad 4)",
        &count(&|i| (s[i].crop_x + 4) as usize, 9),
        &uniform(9),
    );
    chi_square(
        "crop y (pad 4)",
        &count(&|i| (s[i].crop_y + 4) as usize, 9),
        &uniform(9),
    );
    chi_square(
        "mixing index",
        &count(&|i| s[i].mixing_index as usize, 7),
        &uniform(7),
    );
    chi_square(
        "round count",
        &count(&|i| s[i].round_count as usize, 5),
        &uniform(5),
    );
    chi_square(
        "base augmented",
        &count(&|i| (s[i].base.op != NO_OP) as usize, 2),
        &uniform(2),
    );
    let ops = |ids: Vec<u32>, name: &str, k: usize| {
        let mut c = vec![0; k];
        for id in ids {
            c[id as usize] += 1;
        }
        chi_square(name, &c, &uniform(k));
    };
    ops(
        s.iter()
            .filter(|s| s.base.op != NO_OP)
            .map(|s| s.base.op)
            .collect(),
        "base operator (13)",
        13,
    );
    ops(
        p.rounds
            .iter()
            .filter(|r| r.source == SOURCE_AUGMENTED)
            .map(|r| r.aug.op)
            .collect(),
        "round operator (13)",
        13,
    );
    let mut sources = [0; 2];
    let mut mixes = [0; 2];
    for r in &p.rounds {
        sources[(r.source == SOURCE_MIXING) as usize] += 1;
        mixes[(r.mix != MIX_ADD) as usize] += 1;
        assert_eq!(r.aug.op == NO_OP, r.source == SOURCE_MIXING);
    }
    chi_square("round source", &sources, &uniform(2));
    chi_square("round mix", &mixes, &uniform(2));

    // Mixing crop offsets are uniform over each picture's free range.
    let (mut xs, mut ys) = (vec![0; 23], vec![0; 5]);
    for smp in s.iter().filter(|s| s.mixing_index == 4) {
        xs[smp.mixing_x as usize] += 1;
        ys[smp.mixing_y as usize] += 1;
    }
    chi_square("mixing crop x on a 54x36 picture", &xs, &uniform(23));
    chi_square("mixing crop y on a 54x36 picture", &ys, &uniform(5));

    // Without all_ops only the nine default operators are drawn.
    let mut nine = config.clone();
    nine.all_ops = false;
    nine.k = 9;
    let p9 = plan(&nine, 2, N, (32, 32), &MIXING);
    ops(
        p9.samples
            .iter()
            .filter(|s| s.base.op != NO_OP)
            .map(|s| s.base.op)
            .collect(),
        "default operator (9)",
        9,
    );
    let mut rc = vec![0; 10];
    for smp in &p9.samples {
        rc[smp.round_count as usize] += 1;
    }
    chi_square("round count k=9", &rc, &uniform(10));
}

#[test]
fn mixing_weights_follow_get_ab() {
    for (seed, beta) in [(3, 3.0), (4, 4.0), (5, 0.5)] {
        let mut config = Config::preset(Preset::Cifar);
        config.beta = beta;
        config.k = 64;
        let p = plan(&config, seed, N / 16, (32, 32), &MIXING);
        assert!(p.rounds.len() > 100_000);
        let (mut a1, mut b1, mut a2, mut b2) = (vec![], vec![], vec![], vec![]);
        for r in &p.rounds {
            if r.a < 1.0 {
                a1.push(r.a as f64);
                b1.push(r.b as f64);
            } else {
                a2.push(r.a as f64 - 1.0);
                b2.push(-r.b as f64);
            }
        }
        chi_square(
            &format!("get_ab branch (beta {beta})"),
            &[a1.len(), a2.len()],
            &uniform(2),
        );
        let beta_n1 = |x: f64| x.clamp(0.0, 1.0).powf(beta);
        let beta_1n = |x: f64| 1.0 - (1.0 - x.clamp(0.0, 1.0)).powf(beta);
        ks(&format!("a ~ Beta({beta}, 1)"), a1, beta_n1);
        ks(&format!("b ~ Beta(1, {beta})"), b1, beta_1n);
        ks(&format!("a - 1 ~ Beta(1, {beta})"), a2, beta_1n);
        ks(&format!("-b ~ Beta(1, {beta})"), b2, beta_1n);
    }
}

/// P(trunc(level * maxval / 10) == v) for level ~ U(0.1, severity).
fn int_param_pmf(maxval: f64, severity: f64, max_v: usize) -> Vec<f64> {
    (0..=max_v)
        .map(|v| {
            let lo = (10.0 * v as f64 / maxval).max(0.1);
            let hi = (10.0 * (v + 1) as f64 / maxval).min(severity);
            (hi - lo).max(0.0) / (severity - 0.1)
        })
        .collect()
}

#[test]
fn operator_parameters_follow_severity() {
    for severity in [1u32, 3, 10] {
        let mut config = Config::preset(Preset::Cifar);
        config.severity = severity;
        config.k = 64;
        let p = plan(&config, 4 + severity as u64, N / 16, (32, 32), &MIXING);
        let sev = severity as f64;
        let params = |op: Operator| -> Vec<f64> {
            p.rounds
                .iter()
                .filter(|r| r.aug.op == op as u32)
                .map(|r| r.aug.param)
                .collect()
        };
        let hist = |xs: &[f64], k: usize, f: &dyn Fn(f64) -> usize| {
            let mut c = vec![0; k];
            for &x in xs {
                c[f(x)] += 1;
            }
            c
        };
        let rot = params(Operator::Rotate);
        chi_square(
            &format!("rotate |degrees| (severity {severity})"),
            &hist(&rot, 31, &|x| x.abs() as usize),
            &int_param_pmf(30.0, sev, 30),
        );
        let nonzero: Vec<_> = rot.iter().filter(|x| **x != 0.0).collect();
        chi_square(
            &format!("rotate sign (severity {severity})"),
            &[
                nonzero.iter().filter(|x| ***x > 0.0).count(),
                nonzero.iter().filter(|x| ***x < 0.0).count(),
            ],
            &uniform(2),
        );
        chi_square(
            &format!("posterize bits (severity {severity})"),
            &hist(&params(Operator::Posterize), 5, &|x| 4 - x as usize),
            &int_param_pmf(4.0, sev, 4),
        );
        chi_square(
            &format!("solarize threshold (severity {severity})"),
            &hist(&params(Operator::Solarize), 257, &|x| 256 - x as usize),
            &int_param_pmf(256.0, sev, 256),
        );
        chi_square(
            &format!("translate_x |pixels| (severity {severity})"),
            &hist(&params(Operator::TranslateX), 11, &|x| x.abs() as usize),
            &int_param_pmf(32.0 / 3.0, sev, 10),
        );
        let level_cdf = |x: f64| ((x - 0.1) / (sev - 0.1)).clamp(0.0, 1.0);
        ks(
            &format!("shear_y level (severity {severity})"),
            params(Operator::ShearY)
                .iter()
                .map(|x| x.abs() / 0.03)
                .collect(),
            level_cdf,
        );
        ks(
            &format!("contrast level (severity {severity})"),
            params(Operator::Contrast)
                .iter()
                .map(|x| (x - 0.1) / 0.18)
                .collect(),
            level_cdf,
        );
    }
}

#[test]
fn resized_crop_follows_torchvision() {
    let config = Config::preset(Preset::Imagenet);
    // A large image keeps the rounding of the crop sides from blurring the draws.
    let (w, h) = (4000usize, 3000usize);
    let p = plan(&config, 9, N, (w, h), &[(256, 256), (341, 256)]);
    let (mut log_ratio, mut area) = (vec![], vec![]);
    for s in &p.samples {
        assert!(s.crop_x >= 0 && s.crop_y >= 0);
        assert!(s.crop_x as usize + s.crop_w as usize <= w);
        assert!(s.crop_y as usize + s.crop_h as usize <= h);
        let frac = (s.crop_w * s.crop_h) as f64 / (w * h) as f64;
        // Small crops are never rejected, so there the draws are visible undistorted.
        if frac < 0.45 {
            log_ratio.push((s.crop_w as f64 / s.crop_h as f64).ln());
            area.push(frac);
        }
    }
    let (l0, l1) = ((3.0f64 / 4.0).ln(), (4.0f64 / 3.0).ln());
    let cdf = |x: f64, lo: f64, hi: f64| ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    let sub: Vec<f64> = area
        .iter()
        .copied()
        .filter(|a| *a > 0.1 && *a < 0.4)
        .collect();
    let n = sub.len();
    ks("RandomResizedCrop area share in (0.1, 0.4)", sub, |x| {
        cdf(x, 0.1, 0.4)
    });
    assert!(n > 30_000);
    let inner: Vec<f64> = log_ratio
        .iter()
        .copied()
        .filter(|r| *r > l0 + 0.02 && *r < l1 - 0.02)
        .collect();
    ks("RandomResizedCrop log aspect ratio", inner, |x| {
        cdf(x, l0 + 0.02, l1 - 0.02)
    });
    chi_square(
        "RandomResizedCrop flip",
        &[
            p.samples.iter().filter(|s| s.flip == 0).count(),
            p.samples.iter().filter(|s| s.flip == 1).count(),
        ],
        &uniform(2),
    );

    // A very wide image falls back to torchvision's central crop at the largest ratio.
    let wide = plan(&config, 10, 50, (1000, 10), &[(256, 256)]);
    for s in &wide.samples {
        assert_eq!((s.crop_w, s.crop_h, s.crop_x, s.crop_y), (13, 10, 493, 0));
    }
}

#[test]
fn plans_are_reproducible_and_batch_independent() {
    let config = Config::preset(Preset::Imagenet);
    let sizes = vec![(500usize, 375usize); 64];
    let mixing = [(256, 256), (300, 256)];
    let whole = Planner::new(&config, 42)
        .unwrap()
        .plan(&sizes, &mixing)
        .unwrap();
    let again = Planner::new(&config, 42)
        .unwrap()
        .plan(&sizes, &mixing)
        .unwrap();
    assert_eq!(whole, again);
    let mut split = Planner::new(&config, 42).unwrap();
    let first = split.plan(&sizes[..20], &mixing).unwrap();
    let second = split.plan(&sizes[20..], &mixing).unwrap();
    assert_eq!(first.samples[..], whole.samples[..20]);
    for (i, s) in second.samples.iter().enumerate() {
        let mut expected = whole.samples[20 + i];
        expected.first_round = s.first_round;
        assert_eq!(*s, expected);
        assert_eq!(
            second.rounds_of(i).unwrap(),
            whole.rounds_of(20 + i).unwrap()
        );
    }
    let other = Planner::new(&config, 43)
        .unwrap()
        .plan(&sizes, &mixing)
        .unwrap();
    assert_ne!(whole, other);
    // A fixed digest pins the streams: a change to any draw shows up here.
    let bytes: &[u8] = bytemuck::cast_slice(&whole.samples);
    let digest = bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    assert_eq!(
        digest, 0x25667c7e475bc1b9,
        "the planner's random streams changed"
    );
}

#[test]
fn plan_layout_is_stable() {
    use pixmix::plan::{OpPlan, RoundPlan, SamplePlan};
    use std::mem::{offset_of, size_of};
    assert_eq!(size_of::<OpPlan>(), 16);
    assert_eq!(size_of::<RoundPlan>(), 32);
    assert_eq!(size_of::<SamplePlan>(), 64);
    assert_eq!(offset_of!(SamplePlan, base), 48);
    assert_eq!(offset_of!(RoundPlan, a), 16);
}
