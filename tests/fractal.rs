//! The procedural fractal mixing set: determinism, genome ranges, the rejection metrics.

use pixmix::RgbImage;
use pixmix::fractal::{FractalSettings, Genome, Metrics, Thresholds, Variation, generate};

#[test]
fn same_seed_same_pictures() {
    let settings = FractalSettings::new(64);
    let (a, sa) = generate(3, &settings, 11, |_, _| {}).unwrap();
    let (b, sb) = generate(3, &settings, 11, |_, _| {}).unwrap();
    assert_eq!(a, b);
    assert_eq!((sa.accepted, sa.rejected), (sb.accepted, sb.rejected));
    let (c, _) = generate(3, &settings, 12, |_, _| {}).unwrap();
    assert_ne!(a, c);
    assert_eq!(a.len(), 3);
    for pic in &a {
        assert_eq!((pic.width(), pic.height()), (64, 64));
        assert!(
            Metrics::of(pic).coverage > 0.05,
            "an accepted picture is not empty"
        );
    }
}

#[test]
fn genomes_follow_the_design() {
    let mut seen = std::collections::HashSet::new();
    let (mut finals, mut symmetric) = (0, 0);
    for i in 0..2000 {
        let g = Genome::random(5, i);
        assert_eq!(g, Genome::random(5, i));
        assert!((2.0..=4.0).contains(&g.gamma));
        assert_eq!(g.palette.len(), 256);
        let base = g.transforms.iter().filter(|t| t.color_speed > 0.0).count();
        assert!((2..=6).contains(&base), "{base} transforms");
        symmetric += (g.transforms.len() > base) as usize;
        finals += g.final_transform.is_some() as usize;
        for t in &g.transforms {
            let total: f64 = t.variations.iter().map(|v| v.1).sum();
            assert!((total - 1.0).abs() < 1e-9);
            assert!(
                t.affine
                    .iter()
                    .all(|v| v.abs() <= 1.0 || t.color_speed == 0.0)
            );
            seen.extend(t.variations.iter().map(|v| v.0));
        }
    }
    assert_eq!(seen.len(), Variation::ALL.len(), "every variation is drawn");
    // 15% have a final transform; about a quarter of the others are symmetric.
    assert!(
        (220..=380).contains(&finals),
        "{finals} final transforms in 2000"
    );
    assert!(
        (300..=560).contains(&symmetric),
        "{symmetric} symmetric genomes in 2000"
    );
}

fn image(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> RgbImage {
    let data = (0..w * h).flat_map(|i| [f(i % w, i / w); 3]).collect();
    RgbImage::new(w, h, data).unwrap()
}

#[test]
fn metrics_measure_what_they_say() {
    let black = Metrics::of(&image(128, 128, |_, _| 0));
    assert_eq!((black.coverage, black.black), (0.0, 1.0));
    assert!(!black.passes(&Thresholds::default()));
    let filled = Metrics::of(&image(
        128,
        128,
        |x, y| if (x + y) % 2 == 0 { 200 } else { 0 },
    ));
    assert!(
        (filled.dimension - 2.0).abs() < 0.05,
        "{}",
        filled.dimension
    );
    let line = Metrics::of(&image(128, 128, |x, y| if x == y { 255 } else { 0 }));
    assert!((line.dimension - 1.0).abs() < 0.1, "{}", line.dimension);
    assert!(line.top_share > 0.99);
    assert!(!line.passes(&Thresholds::default()));
    // A structured, partly covered picture with dark background passes.
    let disc = Metrics::of(&image(128, 128, |x, y| {
        let (dx, dy) = (x as f64 - 64.0, y as f64 - 64.0);
        if dx * dx + dy * dy < 1500.0 {
            (60 + (x * 7 + y * 13) % 120) as u8
        } else {
            0
        }
    }));
    assert!(disc.passes(&Thresholds::default()), "{disc:?}");
}

#[test]
fn impossible_thresholds_are_an_error_not_a_hang() {
    let mut settings = FractalSettings::new(32);
    settings.thresholds.min_dimension = 3.0;
    settings.max_attempts_per_picture = 3;
    let err = generate(2, &settings, 1, |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("loosen"), "{err}");
    assert!(generate(1, &FractalSettings::new(4), 1, |_, _| {}).is_err());
}

#[test]
#[cfg(feature = "cuda")]
fn the_kernels_render_the_same_flames_as_the_cpu() {
    use pixmix::fractal::device::FlameGenome;
    use pixmix::fractal::{frame, render};
    let mut genomes = Vec::new();
    let mut seeds = Vec::new();
    let mut cpu = Vec::new();
    let (size, quality) = (48, 6.0);
    for i in 0..40u64 {
        let mut g = Genome::random(21, i);
        let seed = 1000 + i;
        if !frame(&mut g, seed) {
            continue;
        }
        cpu.push(render(&g, size, quality, seed));
        genomes.push(FlameGenome::new(&g).unwrap());
        seeds.push(seed);
    }
    assert!(genomes.len() >= 30);
    let kernels = pixmix::kernels::host_flames(&genomes, &seeds, size, quality).unwrap();
    for (i, (a, b)) in cpu.iter().zip(&kernels).enumerate() {
        assert!(
            a == b,
            "flame {i} differs between the CPU renderer and the kernels"
        );
    }
}

#[test]
fn pictures_do_not_depend_on_the_number_of_threads() {
    let settings = FractalSettings::new(40);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| generate(7, &settings, 13, |_, _| {}).unwrap())
    };
    let (one, s1) = run(1);
    let (three, s3) = run(3);
    assert_eq!(one, three);
    assert_eq!(
        (s1.accepted, s1.rejected, s1.unframed, s1.failed),
        (s3.accepted, s3.rejected, s3.unframed, s3.failed)
    );
}
