//! A small CNN trained on CIFAR-10 with PixMix done by this crate: on the GPU when there is
//! one, writing each batch straight into the model's input tensor on torch's stream.
//!
//! ```text
//! cargo run --release --features tch --example train_tch -- --data cifar-10-batches-bin
//! cargo run --release --features tch --example train_tch -- --synthetic --epochs 2
//! ```
//!
//! `--data` is the binary version of CIFAR-10 (data_batch_1.bin .. data_batch_5.bin and
//! test_batch.bin: one label byte and 3,072 bytes of planar RGB per image). `--synthetic`
//! writes a tiny dataset of ten learnable pattern classes in that format and trains on it.
//! The log shows loss, images/s, and the time spent augmenting versus training.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use pixmix::{Config, MixingSet, PixMix, Preset, RgbImage};
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

const SIDE: usize = 32;
const RECORD: usize = 1 + 3 * SIDE * SIDE;

/// Train a small CNN on CIFAR-10 with PixMix augmentation.
#[derive(Parser, Debug)]
struct Args {
    /// Folder with CIFAR-10's binary batches (written there first with --synthetic).
    #[arg(long, default_value = "out/synthetic-cifar")]
    data: PathBuf,
    /// Write a tiny generated dataset into --data and train on it.
    #[arg(long)]
    synthetic: bool,
    /// Mixing pictures (a folder of images); fractals are generated when absent.
    #[arg(long)]
    mixing: Option<PathBuf>,
    /// Number of fractals generated when no --mixing folder is given.
    #[arg(long, default_value_t = 32)]
    fractals: usize,
    /// auto, cpu, or cuda[:N].
    #[arg(long, default_value = "auto")]
    device: String,
    /// Passes over the training set.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Stop after this many steps in all (0: no limit).
    #[arg(long, default_value_t = 0)]
    max_steps: usize,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Learning rate (SGD with momentum 0.9).
    #[arg(long, default_value_t = 0.05)]
    lr: f64,
    /// Seed of the augmentation and the shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Log every this many steps.
    #[arg(long, default_value_t = 20)]
    log_every: usize,
}

/// Labelled 32x32 images.
struct Split {
    images: Vec<RgbImage>,
    labels: Vec<i64>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = choose_device(&args.device)?;
    if args.synthetic {
        write_synthetic(&args.data, args.seed)?;
        println!("wrote a synthetic CIFAR-10 into {}", args.data.display());
    }
    let train = load_split(&args.data, "data_batch_")?;
    let test = load_split(&args.data, "test_batch")?;
    println!(
        "{} training and {} test images from {}; device {device:?}",
        train.images.len(),
        test.images.len(),
        args.data.display()
    );

    let config = Config::preset(Preset::Cifar);
    let mixing = match &args.mixing {
        Some(dir) => MixingSet::from_dir(dir, config.mixing_resize)?,
        None => {
            let t = Instant::now();
            let set = MixingSet::fractals(args.fractals, config.mixing_resize, args.seed)?;
            println!(
                "generated {} fractal mixing pictures in {:.1} s",
                set.len(),
                t.elapsed().as_secs_f64()
            );
            set
        }
    };
    let mut pixmix = PixMix::new(config.clone(), mixing, args.seed)?;
    if let Device::Cuda(ordinal) = device {
        pixmix.use_cuda(ordinal)?;
    }
    println!("augmenting on {}", pixmix.device());

    let vs = nn::VarStore::new(device);
    let net = model(&vs.root());
    let mut opt = nn::Sgd {
        momentum: 0.9,
        ..Default::default()
    }
    .build(&vs, args.lr)?;

    let batch = args.batch.min(train.images.len()).max(1);
    let mut input = Tensor::zeros(
        [batch as i64, 3, SIDE as i64, SIDE as i64],
        (Kind::Float, device),
    );
    let mut order: Vec<usize> = (0..train.images.len()).collect();
    let mut shuffle = Shuffle(args.seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut step = 0usize;
    'epochs: for epoch in 1..=args.epochs {
        shuffle.apply(&mut order);
        let (mut aug_time, mut train_time, mut seen, mut loss_sum) =
            (Duration::ZERO, Duration::ZERO, 0usize, 0f64);
        let mut window = Instant::now();
        for chunk in order.chunks_exact(batch) {
            let images: Vec<RgbImage> = chunk.iter().map(|&i| train.images[i].clone()).collect();
            let labels: Vec<i64> = chunk.iter().map(|&i| train.labels[i]).collect();

            // Synchronising makes the split of time honest; a real trainer would not wait.
            let t0 = Instant::now();
            pixmix.augment_into_tch(&images, &mut input)?;
            sync(device);
            let t1 = Instant::now();
            let targets = Tensor::from_slice(&labels).to_device(device);
            let loss = net
                .forward_t(&input, true)
                .cross_entropy_for_logits(&targets);
            opt.backward_step(&loss);
            let loss = loss.double_value(&[]);
            sync(device);
            let t2 = Instant::now();

            aug_time += t1 - t0;
            train_time += t2 - t1;
            seen += chunk.len();
            loss_sum += loss;
            step += 1;
            if step.is_multiple_of(args.log_every.max(1)) {
                let steps = args.log_every.max(1) as f64;
                let wall = window.elapsed().as_secs_f64();
                println!(
                    "epoch {epoch} step {step:5}  loss {:.4}  {:8.0} images/s  augment {:6.2} ms/step ({:4.1}%)  train {:6.2} ms/step",
                    loss_sum / steps,
                    seen as f64 / wall.max(1e-9),
                    aug_time.as_secs_f64() * 1e3 / steps,
                    100.0 * aug_time.as_secs_f64() / (aug_time + train_time).as_secs_f64(),
                    train_time.as_secs_f64() * 1e3 / steps,
                );
                (aug_time, train_time, loss_sum, seen) = (Duration::ZERO, Duration::ZERO, 0.0, 0);
                window = Instant::now();
            }
            if args.max_steps > 0 && step >= args.max_steps {
                println!("stopping after {step} steps (--max-steps)");
                evaluate(&net, &test, &config, device, epoch)?;
                break 'epochs;
            }
        }
        evaluate(&net, &test, &config, device, epoch)?;
    }
    Ok(())
}

/// Conv-pool twice, then two linear layers: enough to learn CIFAR-10 a little.
fn model(p: &nn::Path) -> impl ModuleT + use<> {
    let conv = |c_in, c_out, name: &str| {
        nn::conv2d(
            p / name,
            c_in,
            c_out,
            3,
            nn::ConvConfig {
                padding: 1,
                ..Default::default()
            },
        )
    };
    nn::seq_t()
        .add(conv(3, 32, "conv1"))
        .add_fn(|x| x.relu().max_pool2d_default(2))
        .add(conv(32, 64, "conv2"))
        .add_fn(|x| x.relu().max_pool2d_default(2))
        .add_fn(|x| x.flatten(1, -1))
        .add(nn::linear(p / "fc1", 64 * 8 * 8, 128, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(p / "fc2", 128, 10, Default::default()))
}

/// Test accuracy on clean images, normalized as the augmented ones are.
fn evaluate(
    net: &impl ModuleT,
    test: &Split,
    config: &Config,
    device: Device,
    epoch: usize,
) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let mut correct = 0i64;
    for (images, labels) in test.images.chunks(500).zip(test.labels.chunks(500)) {
        let mut planes = Vec::with_capacity(images.len() * 3 * SIDE * SIDE);
        for image in images {
            for c in 0..3 {
                planes.extend(
                    image
                        .as_bytes()
                        .chunks_exact(3)
                        .map(|px| (f32::from(px[c]) / 255.0 - config.mean[c]) / config.std[c]),
                );
            }
        }
        let x = Tensor::from_slice(&planes)
            .reshape([images.len() as i64, 3, SIDE as i64, SIDE as i64])
            .to_device(device);
        let predicted = net.forward_t(&x, false).argmax(-1, false);
        let truth = Tensor::from_slice(labels).to_device(device);
        correct += predicted
            .eq_tensor(&truth)
            .sum(Kind::Int64)
            .int64_value(&[]);
    }
    println!(
        "epoch {epoch}: test accuracy {:.1}% on {} images",
        100.0 * correct as f64 / test.images.len().max(1) as f64,
        test.images.len()
    );
    Ok(())
}

fn choose_device(name: &str) -> Result<Device> {
    match name {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(0)),
        other => match other.strip_prefix("cuda:").map(str::parse) {
            Some(Ok(n)) => Ok(Device::Cuda(n)),
            _ => bail!("--device takes auto, cpu, cuda or cuda:N, not {other:?}"),
        },
    }
    .and_then(|d| {
        if d.is_cuda() && !tch::Cuda::is_available() {
            bail!("torch sees no CUDA device (is libtorch_cuda linked and a GPU present?)")
        }
        Ok(d)
    })
}

fn sync(device: Device) {
    if let Device::Cuda(n) = device {
        tch::Cuda::synchronize(n as i64);
    }
}

/// Every file in `dir` whose name starts with `prefix`, read as CIFAR-10 binary records.
fn load_split(dir: &Path, prefix: &str) -> Result<Split> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "reading {} (pass --synthetic to make a dataset)",
                dir.display()
            )
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".bin"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no {prefix}*.bin in {}", dir.display());
    }
    let mut split = Split {
        images: Vec::new(),
        labels: Vec::new(),
    };
    for file in files {
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        if bytes.is_empty() || bytes.len() % RECORD != 0 {
            bail!(
                "{} holds {} bytes, not a whole number of {RECORD}-byte CIFAR-10 records",
                file.display(),
                bytes.len()
            );
        }
        for record in bytes.chunks_exact(RECORD) {
            if record[0] > 9 {
                bail!(
                    "{}: label {} is not a CIFAR-10 class",
                    file.display(),
                    record[0]
                );
            }
            let planes = &record[1..];
            let plane = SIDE * SIDE;
            let hwc = (0..plane)
                .flat_map(|i| [planes[i], planes[plane + i], planes[2 * plane + i]])
                .collect();
            split.images.push(RgbImage::new(SIDE, SIDE, hwc)?);
            split.labels.push(i64::from(record[0]));
        }
    }
    Ok(split)
}

/// Ten classes a small CNN can tell apart: stripes whose angle and colours depend on the
/// class, at a random phase, with noise.
fn write_synthetic(dir: &Path, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut rng = Shuffle(seed.wrapping_add(1));
    let mut write = |name: &str, count: usize| -> Result<()> {
        let mut bytes = Vec::with_capacity(count * RECORD);
        for i in 0..count {
            let class = i % 10;
            bytes.push(class as u8);
            let angle = class as f32 * std::f32::consts::PI / 10.0;
            let (s, c) = angle.sin_cos();
            let phase = (rng.next() % 1000) as f32 / 1000.0 * std::f32::consts::TAU;
            let hue = [
                class as f32 * 0.6,
                class as f32 * 1.3 + 2.0,
                class as f32 * 2.1 + 4.0,
            ];
            for (channel, h) in hue.iter().enumerate() {
                for y in 0..SIDE {
                    for x in 0..SIDE {
                        let wave =
                            ((x as f32 * c + y as f32 * s) * 0.6 + phase + channel as f32).sin();
                        let tone = 128.0 + 90.0 * wave * h.cos();
                        let noise = (rng.next() % 41) as f32 - 20.0;
                        bytes.push((tone + noise).clamp(0.0, 255.0) as u8);
                    }
                }
            }
        }
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    };
    write("data_batch_1.bin", 2000)?;
    write("test_batch.bin", 500)
}

/// SplitMix64: shuffles and synthetic noise, reproducible from the seed.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher-Yates.
    fn apply(&mut self, order: &mut [usize]) {
        for i in (1..order.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
    }
}
