//! The CPU executor against a Pillow + float32 reimplementation of the released pipeline
//! (`tools/reference.py`), on explicit plans covering every operator, both mixes and both
//! train transforms.

mod common;

use pixmix::plan::{BatchPlan, NO_OP, OpPlan, RoundPlan, SamplePlan};
use pixmix::{Config, CpuExecutor, Dtype, MixingSet, Preset, TrainTransform};
use serde_json::Value;

fn op_plan(v: &Value) -> OpPlan {
    OpPlan {
        param: v["param"].as_f64().unwrap(),
        op: v["op"].as_u64().map(|o| o as u32).unwrap_or(NO_OP),
        reserved: 0,
    }
}

fn config(v: &Value) -> Config {
    let mut c = Config::preset(Preset::Cifar);
    let f = |k: &str| v[k].as_f64().unwrap();
    c.size = f("size") as usize;
    c.train = match v["padding"].as_u64() {
        Some(p) => TrainTransform::FlipPadCrop {
            padding: p as usize,
        },
        None => Config::preset(Preset::Imagenet).train,
    };
    c.mixing_resize = f("mixing_resize") as usize;
    c.k = f("k") as u32;
    c.beta = f("beta");
    c.severity = f("severity") as u32;
    let arr = |k: &str| std::array::from_fn(|i| v[k][i].as_f64().unwrap() as f32);
    c.mean = arr("mean");
    c.std = arr("std");
    c
}

#[test]
fn cpu_executor_matches_reference_pipeline() {
    let data: Value = serde_json::from_str(include_str!("fixtures/reference_pixmix.json")).unwrap();
    for suite in data["suites"].as_array().unwrap() {
        let name = suite["name"].as_str().unwrap();
        let config = config(&suite["config"]);
        let mixing = MixingSet::from_images(
            suite["mixing"]
                .as_array()
                .unwrap()
                .iter()
                .map(common::image_from_json),
            config.mixing_resize,
        )
        .unwrap();
        let mut plan = BatchPlan::default();
        let mut images = Vec::new();
        for s in suite["samples"].as_array().unwrap() {
            images.push(common::image_from_json(&s["image"]));
            let p = &s["plan"];
            let u = |k: &str| p[k].as_i64().unwrap();
            let rounds: Vec<RoundPlan> = s["rounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| RoundPlan {
                    aug: op_plan(&r["aug"]),
                    a: r["a"].as_f64().unwrap() as f32,
                    b: r["b"].as_f64().unwrap() as f32,
                    source: r["source"].as_u64().unwrap() as u32,
                    mix: r["mix"].as_u64().unwrap() as u32,
                })
                .collect();
            plan.samples.push(SamplePlan {
                transform: u("transform") as u32,
                flip: p["flip"].as_bool().unwrap() as u32,
                crop_x: u("crop_x") as i32,
                crop_y: u("crop_y") as i32,
                crop_w: u("crop_w") as u32,
                crop_h: u("crop_h") as u32,
                mixing_index: u("mixing_index") as u32,
                mixing_x: u("mixing_x") as u32,
                mixing_y: u("mixing_y") as u32,
                first_round: plan.rounds.len() as u32,
                round_count: rounds.len() as u32,
                reserved: 0,
                base: op_plan(&p["base"]),
            });
            plan.rounds.extend(rounds);
        }
        let out = CpuExecutor::new(&config)
            .unwrap()
            .augment(&plan, &images, &mixing, Dtype::F32)
            .unwrap()
            .to_f32_vec();
        let per = 3 * config.size * config.size;
        let (mut max_diff, mut exact, mut total) = (0f32, 0usize, 0usize);
        for (i, b64) in suite["outputs"].as_array().unwrap().iter().enumerate() {
            let expected = common::f32s_from_base64(b64.as_str().unwrap());
            let got = &out[i * per..(i + 1) * per];
            for (g, e) in got.iter().zip(&expected) {
                let d = (g - e).abs();
                if d > max_diff {
                    max_diff = d;
                }
                exact += (g.to_bits() == e.to_bits()) as usize;
                total += 1;
            }
            let worst = got
                .iter()
                .zip(&expected)
                .map(|(g, e)| (g - e).abs())
                .fold(0f32, f32::max);
            assert!(worst <= 1e-5, "{name} sample {i}: max difference {worst}");
        }
        println!(
            "{name}: {} samples, {exact} of {total} values bit-exact, max difference {max_diff:e}",
            plan.len()
        );
    }
}
