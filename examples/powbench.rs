fn main() {
    let n = 1 << 20;
    let xs: Vec<f32> = (0..n).map(|i| ((i as u64 * 7919 % 100000) as usize) as f32 / 50000.0).collect();
    let t = pixmix::mix::RoundTables::new(&pixmix::plan::RoundPlan { aug: pixmix::plan::OpPlan::NONE, a: 0.7, b: -0.3, source: 1, mix: 1 }, &pixmix::mix::tensorize_table());
    let bytes: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    let mut m = xs.clone();
    let start = std::time::Instant::now();
    for _ in 0..10 { m.copy_from_slice(&xs); t.mix_row(&mut m, &bytes); }
    let el = start.elapsed().as_secs_f64();
    for (i, v) in m.iter().enumerate() { if v.is_nan() { println!("nan at {i}: x {} b {}", xs[i], bytes[i]); break; } }
    for x in [0.0f32, 1e-30, 0.5, 1.0, 2.0, 4.0] { println!("pow({x}, 0.7) = {} vs {}", pixmix::mix::pow(x, 0.7), (x as f64).powf(0.7) as f32); }
    println!("{:.2} ns per value (checksum {})", el / (10.0 * n as f64) * 1e9, m.iter().sum::<f32>());
}
#[allow(dead_code)]
fn dbg() {}
