//! Helpers shared by the integration tests: the synthetic image generator of
//! `tools/golden.py` and fixture decoding.
#![allow(dead_code)]

pub mod augmix;

use pixmix::{Config, MixingSet, RgbImage};
use serde_json::Value;

/// splitmix64 finaliser of `seed + (idx + 1) * golden ratio`.
pub fn hash64(seed: u64, idx: u64) -> u64 {
    let mut z = seed.wrapping_add(idx.wrapping_add(1).wrapping_mul(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
    z ^ (z >> 31)
}

/// The generator of `tools/golden.py::make_image`.
pub fn make_image(kind: &str, seed: u64, w: usize, h: usize) -> RgbImage {
    let params: Vec<u64> = (0..8).map(|i| hash64(seed ^ 0x5DEECE66D, i)).collect();
    let data = (0..(w * h * 3) as u64)
        .map(|i| {
            let r = hash64(seed, i);
            let (p, c) = (i / 3, i % 3);
            let (x, y) = (p % w as u64, p / w as u64);
            let v = match kind {
                "noise" => r,
                "smooth" => {
                    let (sx, sy) = (params[0] % 7 + 1, params[1] % 7 + 1);
                    x * sx + y * sy + c * 50 + r % 17
                }
                "levels" => {
                    let count = params[c as usize] % 3 + 1;
                    hash64(seed + 7, c * 3 + r % count)
                }
                "flat" => params[c as usize],
                "mixed" => match c {
                    0 => params[0],
                    1 if r & 1 == 1 => params[1],
                    1 => params[2],
                    _ => r,
                },
                other => panic!("unknown kind {other}"),
            };
            (v & 255) as u8
        })
        .collect();
    RgbImage::new(w, h, data).unwrap()
}

/// An image described as `{"kind", "seed", "w", "h"}`.
pub fn image_from_json(v: &Value) -> RgbImage {
    make_image(
        v["kind"].as_str().unwrap(),
        v["seed"].as_u64().unwrap(),
        v["w"].as_u64().unwrap() as usize,
        v["h"].as_u64().unwrap() as usize,
    )
}

/// Little-endian f32s from base64.
pub fn f32s_from_base64(s: &str) -> Vec<f32> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut lookup = [0u8; 256];
    for (i, &c) in ALPHABET.iter().enumerate() {
        lookup[c as usize] = i as u8;
    }
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut bytes = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let v = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| {
            acc | (lookup[c as usize] as u32) << (18 - 6 * i)
        });
        let n = chunk.len() - 1;
        bytes.extend_from_slice(&v.to_be_bytes()[1..1 + n]);
    }
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Three smooth mixing pictures (one large enough for the imagenet preset), resized for
/// `config`.
pub fn mixing(config: &Config) -> MixingSet {
    let pics =
        [(50, 40, 1), (40, 64, 2), (300, 260, 3)].map(|(w, h, s)| make_image("smooth", s, w, h));
    MixingSet::from_images(pics, config.mixing_resize).unwrap()
}

/// `n` synthetic photos cycling through `sizes` and four image kinds.
pub fn photos(n: usize, sizes: &[(usize, usize)], seed: u64) -> Vec<RgbImage> {
    (0..n)
        .map(|i| {
            let (w, h) = sizes[i % sizes.len()];
            make_image(
                ["smooth", "noise", "levels", "mixed"][i % 4],
                seed + i as u64,
                w,
                h,
            )
        })
        .collect()
}
