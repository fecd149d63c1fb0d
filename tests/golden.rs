//! Every base operator against Pillow, on the cases of `tests/fixtures/golden_ops.jsonl`
//! (regenerate with `python3 tools/golden.py`). Exact equality is demanded.

mod common;

use common::make_image;
use pixmix::RgbImage;
use pixmix::ops::{Operator, apply};
use serde_json::Value;

struct Case {
    line: usize,
    json: Value,
    op: Operator,
    param: f64,
    img: RgbImage,
}

fn cases() -> (Value, Vec<Case>) {
    let text = include_str!("fixtures/golden_ops.jsonl");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let cases = lines
        .enumerate()
        .map(|(n, line)| {
            let json: Value = serde_json::from_str(line).unwrap();
            let op = Operator::from_name(json["op"].as_str().unwrap()).unwrap();
            let param = json["param"].as_f64().unwrap();
            let (w, h) = (json["w"].as_u64().unwrap(), json["h"].as_u64().unwrap());
            let img = make_image(
                json["kind"].as_str().unwrap(),
                json["seed"].as_u64().unwrap(),
                w as usize,
                h as usize,
            );
            Case {
                line: n,
                json,
                op,
                param,
                img,
            }
        })
        .collect();
    (header, cases)
}

#[test]
fn operators_equal_pillow() {
    let (header, cases) = cases();
    assert_eq!(header["cases"].as_u64().unwrap() as usize, cases.len());
    let mut per_op = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    let mut failures = Vec::new();
    for case in &cases {
        let out = apply(case.op, case.param, &case.img).unwrap();
        let crc = crc32fast::hash(out.as_bytes()) as u64;
        let sum: u64 = out.as_bytes().iter().map(|&b| b as u64).sum();
        let entry = per_op.entry(case.op.name()).or_default();
        entry.0 += 1;
        if crc != case.json["crc32"].as_u64().unwrap() || sum != case.json["sum"].as_u64().unwrap()
        {
            entry.1 += 1;
            failures.push(format!(
                "case {} (python3 tools/golden.py --dump {} out.png): {}",
                case.line, case.line, case.json
            ));
        }
    }
    for (op, (n, bad)) in &per_op {
        println!("{op:>13}: {n} cases, {bad} differ");
    }
    println!("Pillow {}", header["pillow"]);
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Pillow:\n{}",
        failures.len(),
        cases.len(),
        failures[..failures.len().min(30)].join("\n")
    );
    for op in Operator::ALL {
        assert!(per_op[op.name()].0 >= 200, "{op} has too few cases");
    }
}

#[test]
fn severity_parameters_match_released_code() {
    let (_, cases) = cases();
    let mut checked = 0;
    for case in cases.iter().filter(|c| c.json.get("level").is_some()) {
        let level = case.json["level"].as_f64().unwrap();
        let mut expected = case
            .op
            .param_from_level(level, case.img.width(), case.img.height());
        if case.json["negated"].as_bool().unwrap() {
            expected = -expected;
        }
        assert_eq!(expected, case.param, "case {}: {}", case.line, case.json);
        checked += 1;
    }
    assert!(checked >= 13 * 200);
}

#[test]
fn crop_and_resize_equal_pillow() {
    use pixmix::resize::{View, resize_bilinear, resize_bilinear_mirrored};
    let text = include_str!("fixtures/golden_resize.jsonl");
    let mut failures = Vec::new();
    let mut count = 0;
    for (n, line) in text.lines().skip(1).enumerate() {
        let json: Value = serde_json::from_str(line).unwrap();
        let u = |v: &Value| v.as_u64().unwrap() as usize;
        let img = make_image(
            json["kind"].as_str().unwrap(),
            json["seed"].as_u64().unwrap(),
            u(&json["w"]),
            u(&json["h"]),
        );
        let b = &json["box"];
        let view = View::new(&img, u(&b[0]), u(&b[1]), u(&b[2]), u(&b[3])).unwrap();
        let out = resize_bilinear(view, u(&json["out"][0]), u(&json["out"][1])).unwrap();
        let sum: u64 = out.as_bytes().iter().map(|&b| b as u64).sum();
        if crc32fast::hash(out.as_bytes()) as u64 != json["crc32"].as_u64().unwrap()
            || sum != json["sum"].as_u64().unwrap()
        {
            failures.push(format!("resize case {n}: {json}"));
        }
        // The mirrored resize is the resize with every row reversed, pixel by pixel.
        let mirrored = resize_bilinear_mirrored(view, out.width(), out.height()).unwrap();
        let flipped: Vec<u8> = out
            .as_bytes()
            .chunks_exact(out.width() * 3)
            .flat_map(|row| row.chunks_exact(3).rev().flatten().copied())
            .collect();
        if mirrored.as_bytes() != flipped {
            failures.push(format!("mirrored resize case {n}: {json}"));
        }
        count += 1;
    }
    assert!(count >= 200);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
