//! Settings read once, at cuInit (see src/config.rs), and what the module loader refuses.
//! Each case re-runs this test binary with a filter and the setting in its environment
//! ([`common::rerun`]): a `child_*` test does the driver work in that child process (and
//! nothing when run directly), the test that starts it compares what the children printed
//! (`RESULT key value` lines) and their standard error.

mod common;

use std::ffi::{c_int, c_void};

use common::*;
use cuda_emu as _;

/// A child's standard error.
fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The one value a child printed for `key`.
fn result(out: &std::process::Output, key: &str) -> String {
    let v = results(out, key);
    assert_eq!(v.len(), 1, "RESULT {key}: {v:?}");
    v.into_iter().next().expect("one value")
}

// ---- 8. Determinism across worker counts ------------------------------------------------

/// The race-free kernels' results as digests, checked against the host's.
#[test]
fn child_determinism() {
    if !is_child() {
        return;
    }
    let _s = Session::new();
    let m = Module::checks();
    const N: usize = 1000;
    let n = N as i32;
    let input: Vec<i32> = (0..N).map(|i| (i * 7919 % 1013) as i32 - 500).collect();
    let d_in = alloc_i32(N);
    upload(d_in, &input);

    // A shared-memory tree reduction per block of 128, and an atomic total.
    let (sums, total) = (alloc_i32(8), alloc_i32(1));
    // SAFETY: plain driver call on a live allocation.
    ok(unsafe { cuMemsetD32_v2(total, 0, 1) });
    ok(launch(
        m.function("block_sums"),
        8,
        128,
        LEGACY,
        &[&d_in, &sums, &total, &n],
    ));
    // Float arithmetic (separate multiply and add: --fmad=false).
    let floats: Vec<f32> = (0..N).map(|i| i as f32 / 7.0 - 33.3).collect();
    let d_floats = alloc_i32(N);
    upload(d_floats, &floats);
    ok(launch(
        m.function("scale_float"),
        8,
        128,
        LEGACY,
        &[&d_floats, &1.37f32, &n],
    ));
    // Shared memory behind a barrier, over 4 blocks of 250.
    let shifted = alloc_i32(N);
    ok(launch(
        m.function("shift_sync"),
        4,
        250,
        LEGACY,
        &[&d_in, &shifted],
    ));
    // 64 blocks adding to one word.
    let word = alloc_i32(1);
    // SAFETY: plain driver call on a live allocation.
    ok(unsafe { cuMemsetD32_v2(word, 0, 1) });
    ok(launch(
        m.function("same_word_atomic"),
        64,
        32,
        LEGACY,
        &[&word],
    ));
    ok(ctx_sync());
    assert_clean();

    let got_sums = download::<i32>(sums, 8);
    let got_total = download::<i32>(total, 1);
    let got_floats = download::<f32>(d_floats, N);
    let got_shifted = download::<i32>(shifted, N);
    let got_word = download::<i32>(word, 1);
    let want_sums: Vec<i32> = (0..8)
        .map(|b| input[(b * 128).min(N)..((b + 1) * 128).min(N)].iter().sum())
        .collect();
    assert_eq!(got_sums, want_sums);
    assert_eq!(got_total, [input.iter().sum::<i32>()]);
    let want_floats: Vec<u32> = floats.iter().map(|x| (x * 1.37 + 0.5).to_bits()).collect();
    let got_bits: Vec<u32> = got_floats.iter().map(|x| x.to_bits()).collect();
    assert_eq!(got_bits, want_floats);
    let want_shifted: Vec<i32> = (0..N).map(|i| input[i - (i % 250).min(1)]).collect();
    assert_eq!(got_shifted, want_shifted);
    assert_eq!(got_word, [(1..=64).sum::<i32>()]);
    println!(
        "RESULT workers {}",
        cuda_emu::config::Config::from_env()
            .expect("the child's settings")
            .workers
    );
    println!("RESULT sums {:016x}", digest(&got_sums));
    println!("RESULT total {}", got_total[0]);
    println!("RESULT floats {:016x}", digest(&got_floats));
    println!("RESULT shifted {:016x}", digest(&got_shifted));
    println!("RESULT word {}", got_word[0]);
}

#[test]
fn results_do_not_depend_on_the_worker_count() {
    if is_child() {
        return;
    }
    let _g = lock();
    let one = rerun("child_determinism", &[("CUDA_EMU_THREADS", "1")]);
    let default = rerun("child_determinism", &[]);
    let seven = rerun("child_determinism", &[("CUDA_EMU_THREADS", "7")]);
    assert_eq!(result(&one, "workers"), "1");
    assert_eq!(result(&default, "workers"), "0");
    assert_eq!(result(&seven, "workers"), "7");
    for key in ["sums", "total", "floats", "shifted", "word"] {
        let r = result(&one, key);
        assert_eq!(r, result(&default, key), "{key}: 1 worker vs the default");
        assert_eq!(r, result(&seven, key), "{key}: 1 worker vs 7");
    }
}

// ---- 9. Configuration ---------------------------------------------------------------------

/// CUDA_EMU_DEVICES=2: two devices, each with its own primary context; a kernel of device
/// 0 touching device 1's memory is a memcheck fault that poisons device 0's context only.
#[test]
fn child_two_devices() {
    if !is_child() {
        return;
    }
    let _g = serial();
    let ptx = checks_ptx();
    // SAFETY (this block): driver calls with out-pointers to locals and live handles.
    unsafe {
        let mut count: c_int = 0;
        ok(cuDeviceGetCount(&mut count));
        assert_eq!(count, 2);
        let (mut ctx0, mut ctx1, mut again) = (
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        ok(cuDevicePrimaryCtxRetain(&mut ctx0, 0));
        ok(cuDevicePrimaryCtxRetain(&mut ctx1, 1));
        ok(cuDevicePrimaryCtxRetain(&mut again, 0));
        ok(cuDevicePrimaryCtxRelease_v2(0));
        assert!(!ctx0.is_null() && !ctx1.is_null());
        assert_ne!(ctx0, ctx1, "each device has its own primary context");
        assert_eq!(again, ctx0, "a device has one primary context");

        ok(cuCtxSetCurrent(ctx1));
        let mut dev: c_int = -1;
        ok(cuCtxGetDevice(&mut dev));
        assert_eq!(dev, 1);
        const N: usize = 64;
        let n = N as i32;
        let buf1 = alloc_i32(N);
        let mut ordinal: c_int = -1;
        // CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
        ok(cuPointerGetAttribute(
            &mut ordinal as *mut c_int as *mut c_void,
            9,
            buf1,
        ));
        assert_eq!(ordinal, 1);
        let m1 = Module::checks();
        ok(launch(
            m1.function("fill"),
            2,
            32,
            LEGACY,
            &[&buf1, &10i32, &n],
        ));
        ok(ctx_sync());
        assert_eq!(download::<i32>(buf1, N), (10..10 + n).collect::<Vec<_>>());
        assert_clean();

        ok(cuCtxSetCurrent(ctx0));
        ok(cuCtxGetDevice(&mut dev));
        assert_eq!(dev, 0);
        let m0 = Module::checks();
        ok(launch(
            m0.function("fill"),
            2,
            32,
            LEGACY,
            &[&buf1, &20i32, &n],
        ));
        assert_sticky(ctx_sync, CUDA_ERROR_ILLEGAL_ADDRESS);
        let r = one_report(Check::Memcheck);
        assert_eq!(
            r.summary,
            format!("access to another device's memory at {buf1:#x} from device 0")
        );
        assert_located(&r, &ptx, "fill", "st.global.u32");
        assert_says(&r, "block (0, 0, 0), thread (0, 0, 0)");
        assert_says(
            &r,
            &format!(
                "allocation {buf1:#x}..{:#x} (256 bytes, cuMemAlloc, device 1)",
                buf1 + 256
            ),
        );

        // Device 1's context is not poisoned, and its memory unchanged.
        ok(cuCtxSetCurrent(ctx1));
        ok(ctx_sync());
        assert_eq!(download::<i32>(buf1, N), (10..10 + n).collect::<Vec<_>>());
        assert_clean();
        drop((m0, m1));
        ok(cuDevicePrimaryCtxRelease_v2(1));
        ok(cuDevicePrimaryCtxRelease_v2(0));
    }
    println!("RESULT devices 2");
}

#[test]
fn two_devices_have_separate_contexts_and_memory() {
    if is_child() {
        return;
    }
    let _g = lock();
    let out = rerun("child_two_devices", &[("CUDA_EMU_DEVICES", "2")]);
    assert_eq!(result(&out, "devices"), "2");
}

/// CUDA_EMU_MEMORY=1M: a 2 MB allocation fails with CUDA_ERROR_OUT_OF_MEMORY, and the
/// context goes on working.
#[test]
fn child_small_memory() {
    if !is_child() {
        return;
    }
    let _s = Session::new();
    // SAFETY (this block): driver calls with out-pointers to locals.
    unsafe {
        let (mut free, mut total) = (0usize, 0usize);
        ok(cuMemGetInfo_v2(&mut free, &mut total));
        assert_eq!(total, 1 << 20);
        let mut d = 0;
        assert_eq!(cuMemAlloc_v2(&mut d, 2 << 20), CUDA_ERROR_OUT_OF_MEMORY);
        assert_eq!(
            cuMemAllocAsync(&mut d, 2 << 20, LEGACY),
            CUDA_ERROR_OUT_OF_MEMORY
        );
        ok(ctx_sync());
    }
    let m = Module::checks();
    const N: usize = 1000;
    let n = N as i32;
    let buf = alloc_i32(N);
    ok(launch(
        m.function("fill"),
        8,
        128,
        LEGACY,
        &[&buf, &1i32, &n],
    ));
    ok(ctx_sync());
    assert_eq!(download::<i32>(buf, N), (1..=n).collect::<Vec<_>>());
    assert_clean();
    println!("RESULT out_of_memory {CUDA_ERROR_OUT_OF_MEMORY}");
}

#[test]
fn a_device_with_1m_refuses_a_2m_allocation() {
    if is_child() {
        return;
    }
    let _g = lock();
    let out = rerun("child_small_memory", &[("CUDA_EMU_MEMORY", "1M")]);
    assert_eq!(result(&out, "out_of_memory"), "2");
}

/// Loads `ptx` expecting `code`, then `fixed` (its twin) and runs its `fill`.
fn refused_then_twin_runs(ptx: &str, code: i32, fixed: &str) {
    let _s = Session::new();
    assert_eq!(Module::try_ptx(ptx).err(), Some(code));
    let m = Module::try_ptx(fixed).expect("the twin module loads");
    const N: usize = 100;
    let n = N as i32;
    let buf = alloc_i32(N);
    ok(launch(
        m.function("fill"),
        4,
        32,
        LEGACY,
        &[&buf, &0i32, &n],
    ));
    ok(ctx_sync());
    assert_eq!(download::<i32>(buf, N), (0..n).collect::<Vec<_>>());
    assert_clean();
}

/// CUDA_EMU_DRIVER=12.4: checks.ptx (PTX ISA 9.0) is refused; the same text as ISA 8.4
/// loads and runs.
#[test]
fn child_old_driver() {
    if !is_child() {
        return;
    }
    let ptx = checks_ptx();
    assert!(
        ptx.contains("\n.version 9.0\n"),
        "checks.ptx is PTX ISA 9.0"
    );
    let mut v: c_int = 0;
    // SAFETY: out-pointer to a local.
    ok(unsafe { cuDriverGetVersion(&mut v) });
    assert_eq!(v, 12040);
    refused_then_twin_runs(
        &ptx,
        CUDA_ERROR_UNSUPPORTED_PTX_VERSION,
        &ptx.replace("\n.version 9.0\n", "\n.version 8.4\n"),
    );
    println!("RESULT driver {v}");
}

#[test]
fn driver_12_4_refuses_ptx_9_0() {
    if is_child() {
        return;
    }
    let _g = lock();
    let out = rerun("child_old_driver", &[("CUDA_EMU_DRIVER", "12.4")]);
    assert_eq!(result(&out, "driver"), "12040");
    let err = stderr(&out);
    assert!(
        err.contains(
            "cuda-emu: cannot load the module: PTX ISA 9.0 is newer than this driver accepts: driver version 12.4 loads PTX up to ISA 8.4"
        ),
        "{err}"
    );
}

/// CUDA_EMU_CC=7.5: checks.ptx (`.target sm_80`) is refused; as `.target sm_75` it loads.
/// Fatbins: the compute_75 entry of tiny-75-80 is picked, compute_80 alone is no binary.
#[test]
fn child_old_device() {
    if !is_child() {
        return;
    }
    let ptx = checks_ptx();
    assert!(
        ptx.contains("\n.target sm_80\n"),
        "checks.ptx targets sm_80"
    );
    let _s = Session::new();
    let (mut major, mut minor): (c_int, c_int) = (0, 0);
    // SAFETY: out-pointers to locals.
    ok(unsafe { cuDeviceComputeCapability(&mut major, &mut minor, 0) });
    assert_eq!((major, minor), (7, 5));
    let refused = Module::try_ptx(&ptx).err().expect("sm_80 PTX is refused");
    let m = Module::try_ptx(&ptx.replace("\n.target sm_80\n", "\n.target sm_75\n"))
        .expect("the sm_75 twin loads");
    const N: usize = 100;
    let n = N as i32;
    let buf = alloc_i32(N);
    ok(launch(
        m.function("fill"),
        4,
        32,
        LEGACY,
        &[&buf, &0i32, &n],
    ));
    ok(ctx_sync());
    assert_eq!(download::<i32>(buf, N), (0..n).collect::<Vec<_>>());
    assert_eq!(
        Module::try_fatbin("tiny-zstd.fatbin").err(),
        Some(CUDA_ERROR_NO_BINARY_FOR_GPU)
    );
    let tiny = Module::try_fatbin("tiny-75-80.fatbin").expect("its compute_75 PTX loads");
    let floats = alloc_i32(N);
    upload(floats, &vec![1.5f32; N]);
    ok(launch(
        tiny.function("add_one"),
        4,
        32,
        LEGACY,
        &[&floats, &(N as u32)],
    ));
    ok(ctx_sync());
    assert_eq!(download::<f32>(floats, N), vec![2.5f32; N]);
    assert_clean();
    println!("RESULT cc {major}.{minor}");
    println!("RESULT refused {refused}");
}

#[test]
fn compute_capability_7_5_refuses_sm_80_ptx() {
    if is_child() {
        return;
    }
    let _g = lock();
    let out = rerun("child_old_device", &[("CUDA_EMU_CC", "7.5")]);
    assert_eq!(result(&out, "cc"), "7.5");
    let refused: i32 = result(&out, "refused").parse().expect("a code");
    assert!(
        [CUDA_ERROR_INVALID_PTX, CUDA_ERROR_NO_BINARY_FOR_GPU].contains(&refused),
        "sm_80 PTX on sm_75: {refused}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("cuda-emu: cannot load the module: ") && err.contains("sm_75"),
        "{err}"
    );
}

/// PTX text whose `.target` is newer than the device fails to JIT on a real driver:
/// CUDA_ERROR_INVALID_PTX, as src/driver/api_module.rs `load` means to answer.
#[test]
fn compute_capability_7_5_refuses_sm_80_ptx_text_as_invalid_ptx() {
    if is_child() {
        return;
    }
    let _g = lock();
    let out = rerun("child_old_device", &[("CUDA_EMU_CC", "7.5")]);
    assert_eq!(result(&out, "refused"), CUDA_ERROR_INVALID_PTX.to_string());
    let err = stderr(&out);
    assert!(
        err.contains(
            "cuda-emu: cannot load the module: .target sm_80 is newer than the device (sm_75)"
        ),
        "{err}"
    );
}

/// A three-stream pipeline ordered by events only: A uploads and adds one, B adds one, C
/// downloads; each stream waits for the one that last read what it overwrites.
#[test]
fn child_pipeline() {
    if !is_child() {
        return;
    }
    let _s = Session::new();
    let m = Module::checks();
    let add_one = m.function("add_one");
    const N: usize = 512;
    const ROUNDS: usize = 6;
    let n = N as i32;
    let bytes = 4 * N;
    let h_in = host_alloc::<i32>(N * ROUNDS);
    let h_out = host_alloc::<i32>(N * ROUNDS);
    let (d_in, d_mid, d_out) = (alloc_i32(N), alloc_i32(N), alloc_i32(N));
    let [a, b, c] = [0; 3].map(|_| stream(CU_STREAM_NON_BLOCKING));
    let [ea, eb, ec] = [0; 3].map(|_| event());
    // SAFETY (this block): live streams, events and allocations; the host buffers hold
    // N * ROUNDS i32s and the host touches them only before queuing and after the sync.
    unsafe {
        let input = std::slice::from_raw_parts_mut(h_in, N * ROUNDS);
        for (i, v) in input.iter_mut().enumerate() {
            *v = (i * 31 % 977) as i32 - 400;
        }
        std::slice::from_raw_parts_mut(h_out, N * ROUNDS).fill(0);
        for r in 0..ROUNDS {
            // A overwrites d_mid, which B of the round before read.
            ok(cuStreamWaitEvent(a, eb, 0));
            ok(cuMemcpyHtoDAsync_v2(
                d_in,
                h_in.add(r * N) as *const c_void,
                bytes,
                a,
            ));
            ok(launch(add_one, 4, 128, a, &[&d_in, &d_mid, &n]));
            ok(cuEventRecord(ea, a));
            // B reads A's d_mid and overwrites d_out, which C of the round before read.
            ok(cuStreamWaitEvent(b, ea, 0));
            ok(cuStreamWaitEvent(b, ec, 0));
            ok(launch(add_one, 4, 128, b, &[&d_mid, &d_out, &n]));
            ok(cuEventRecord(eb, b));
            ok(cuStreamWaitEvent(c, eb, 0));
            ok(cuMemcpyDtoHAsync_v2(
                h_out.add(r * N) as *mut c_void,
                d_out,
                bytes,
                c,
            ));
            ok(cuEventRecord(ec, c));
        }
        ok(cuStreamSynchronize(c));
        ok(ctx_sync());
        assert_clean();
        let input = std::slice::from_raw_parts(h_in, N * ROUNDS);
        let output = std::slice::from_raw_parts(h_out, N * ROUNDS);
        let want: Vec<i32> = input.iter().map(|v| v + 2).collect();
        assert_eq!(output, &want[..]);
        println!("RESULT out {:016x}", digest(output));
        ok(cuMemFreeHost(h_in as *mut c_void));
        ok(cuMemFreeHost(h_out as *mut c_void));
    }
}

#[test]
fn jitter_does_not_change_an_event_ordered_pipeline() {
    if is_child() {
        return;
    }
    let _g = lock();
    let plain = rerun("child_pipeline", &[]);
    let jitter = rerun("child_pipeline", &[("CUDA_EMU_JITTER", "12345")]);
    let other = rerun(
        "child_pipeline",
        &[("CUDA_EMU_JITTER", "7"), ("CUDA_EMU_JITTER_US", "2000")],
    );
    let want = result(&plain, "out");
    assert_eq!(result(&jitter, "out"), want);
    assert_eq!(result(&other, "out"), want);
}

// ---- 10. Instructions the emulator does not support ------------------------------------

/// Hand-written PTX: a warp shuffle.
const SHFL_PTX: &str = "\
.version 8.0
.target sm_80
.address_size 64

.visible .entry broadcast(
	.param .u64 broadcast_param_0
)
{
	.reg .b32 	%r<3>;
	.reg .b64 	%rd<3>;

	ld.param.u64 	%rd1, [broadcast_param_0];
	cvta.to.global.u64 	%rd2, %rd1;
	mov.u32 	%r1, %tid.x;
	shfl.sync.idx.b32 	%r2, %r1, 0, 31, -1;
	st.global.u32 	[%rd2], %r2;
	ret;
}
";

/// Hand-written PTX: a warp vote.
const VOTE_PTX: &str = "\
.version 8.0
.target sm_80
.address_size 64

.visible .entry any_odd(
	.param .u64 any_odd_param_0
)
{
	.reg .pred 	%p<3>;
	.reg .b32 	%r<4>;
	.reg .b64 	%rd<3>;

	ld.param.u64 	%rd1, [any_odd_param_0];
	cvta.to.global.u64 	%rd2, %rd1;
	mov.u32 	%r1, %tid.x;
	and.b32 	%r2, %r1, 1;
	setp.ne.s32 	%p1, %r2, 0;
	vote.sync.any.pred 	%p2, %p1, -1;
	selp.u32 	%r3, 1, 0, %p2;
	st.global.u32 	[%rd2], %r3;
	ret;
}
";

/// The 1-based line of `ptx` that contains `what`.
fn line_of(ptx: &str, what: &str) -> usize {
    ptx.lines()
        .position(|l| l.contains(what))
        .expect("the instruction is in the PTX")
        + 1
}

#[test]
fn child_unsupported_instruction() {
    if !is_child() {
        return;
    }
    let _s = Session::new();
    assert_eq!(
        Module::try_ptx(SHFL_PTX).err(),
        Some(CUDA_ERROR_INVALID_PTX)
    );
    assert_eq!(
        Module::try_ptx(VOTE_PTX).err(),
        Some(CUDA_ERROR_INVALID_PTX)
    );
    // The twin without the warp instruction loads and runs.
    let plain = SHFL_PTX.replace(
        "shfl.sync.idx.b32 \t%r2, %r1, 0, 31, -1;",
        "mov.u32 \t%r2, %r1;",
    );
    assert_ne!(plain, SHFL_PTX);
    let m = Module::try_ptx(&plain).expect("the module without shfl loads");
    let out = alloc_i32(1);
    ok(launch(m.function("broadcast"), 1, 1, LEGACY, &[&out]));
    ok(ctx_sync());
    assert_eq!(download::<i32>(out, 1), [0]);
    assert_clean();
    println!("RESULT refused 2");
}

#[test]
fn a_warp_instruction_is_invalid_ptx_naming_its_line() {
    if is_child() {
        return;
    }
    let _g = lock();
    let out = rerun("child_unsupported_instruction", &[]);
    assert_eq!(result(&out, "refused"), "2");
    let err = stderr(&out);
    for (ptx, text) in [
        (SHFL_PTX, "shfl.sync.idx.b32"),
        (VOTE_PTX, "vote.sync.any.pred"),
    ] {
        let line = line_of(ptx, text);
        let want = format!(
            "cuda-emu: cannot load the module: PTX line {line}: warp-level instructions is not supported by the emulator: `{text}"
        );
        assert!(err.contains(&want), "stderr lacks {want:?}:\n{err}");
    }
}
