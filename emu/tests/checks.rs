//! Every check of the emulator fires on a violating program and stays silent on its correct
//! twin, driven through the C driver API as a program would: the kernels are
//! tests/kernels/checks.cu compiled to tests/data/checks.ptx (tools/make-check-kernels.sh).
//! A report names the check, kernel, PTX line, block, thread, address and allocation; the
//! launch's sticky error comes back at the next synchronization and from every later call.
//! Settings read at cuInit are tested in tests/config.rs.

mod common;

use std::ffi::c_void;

use common::*;
use cuda_emu as _;

/// Iterations of the `spin` kernel (one thread; about 90 ms in a release build): work
/// queued behind it is still pending when the host acts a moment later.
const SPIN: u32 = 20_000_000;

#[test]
fn out_of_bounds_by_one_element() {
    let _s = Session::new();
    let ptx = checks_ptx();
    let m = Module::checks();
    // 4 blocks of 32 threads for 127 elements: thread 31 of block 3 is one too many.
    const N: usize = 127;
    let out = alloc_i32(N);
    let n = N as i32;

    ok(launch(
        m.function("store_guarded"),
        4,
        32,
        LEGACY,
        &[&out, &n],
    ));
    ok(ctx_sync());
    assert_eq!(download::<i32>(out, N), (0..n).collect::<Vec<_>>());
    assert_clean();

    ok(launch(
        m.function("store_unguarded"),
        4,
        32,
        LEGACY,
        &[&out, &n],
    ));
    assert_sticky(ctx_sync, CUDA_ERROR_ILLEGAL_ADDRESS);
    let r = one_report(Check::Memcheck);
    let addr = out + 4 * N as u64;
    assert_says(
        &r,
        &format!("out-of-bounds global write of 4 bytes at {addr:#x}"),
    );
    assert_located(&r, &ptx, "store_unguarded", "st.global.u32");
    assert_says(&r, "block (3, 0, 0), thread (31, 0, 0)");
    assert_says(
        &r,
        &format!(
            "4 bytes at {addr:#x} are 4 bytes past the end of allocation {out:#x}..{addr:#x} (508 bytes, cuMemAlloc, device 0)"
        ),
    );
}

#[test]
fn missing_syncthreads_is_a_shared_memory_race() {
    let _s = Session::new();
    let ptx = checks_ptx();
    let m = Module::checks();
    const N: usize = 128;
    let input: Vec<i32> = (0..N as i32).map(|i| 10 * i + 3).collect();
    let (d_in, d_out) = (alloc_i32(N), alloc_i32(N));
    upload(d_in, &input);

    // Two blocks of 64: each thread reads its left neighbour's element (thread 0 its own).
    ok(launch(
        m.function("shift_sync"),
        2,
        64,
        LEGACY,
        &[&d_in, &d_out],
    ));
    ok(ctx_sync());
    let want: Vec<i32> = (0..N)
        .map(|i| input[i - (i % 64).min(1)])
        .collect::<Vec<_>>();
    assert_eq!(download::<i32>(d_out, N), want);
    assert_clean();

    ok(launch(
        m.function("shift_nosync"),
        2,
        64,
        LEGACY,
        &[&d_in, &d_out],
    ));
    assert_sticky(ctx_sync, CUDA_ERROR_LAUNCH_FAILED);
    let r = one_report(Check::Racecheck);
    assert_eq!(
        r.summary,
        "read of 4 bytes of shared memory at 0x0 races with a write with no barrier between them"
    );
    assert_located(&r, &ptx, "shift_nosync", "ld.shared.u32");
    assert_says(&r, "block (0, 0, 0), thread (1, 0, 0)");
    assert_says(&r, "the other access: block (0, 0, 0), thread (0, 0, 0)");
}

#[test]
fn plain_stores_of_two_blocks_to_one_word_race_and_atomics_do_not() {
    let _s = Session::new();
    let ptx = checks_ptx();
    let m = Module::checks();
    let word = alloc_i32(1);
    // SAFETY: plain driver call on a live allocation.
    ok(unsafe { cuMemsetD32_v2(word, 0, 1) });

    // Thread 0 of each of 2 blocks adds blockIdx.x + 1.
    ok(launch(
        m.function("same_word_atomic"),
        2,
        32,
        LEGACY,
        &[&word],
    ));
    ok(ctx_sync());
    assert_eq!(download::<i32>(word, 1), [3]);
    assert_clean();

    ok(launch(
        m.function("same_word_store"),
        2,
        32,
        LEGACY,
        &[&word],
    ));
    assert_sticky(ctx_sync, CUDA_ERROR_LAUNCH_FAILED);
    let r = one_report(Check::Racecheck);
    assert_eq!(
        r.summary,
        format!(
            "write of 4 bytes of global memory at {word:#x} races with a write from another block (blocks are never ordered within a launch)"
        )
    );
    assert_located(&r, &ptx, "same_word_store", "st.global.u32");
    // Which of the two blocks stores second depends on the workers' timing.
    let block = if r.details.iter().any(|d| d.starts_with("block (1, 0, 0)")) {
        1
    } else {
        0
    };
    assert_says(&r, &format!("block ({block}, 0, 0), thread (0, 0, 0)"));
    assert_says(
        &r,
        &format!(
            "the other access: block ({}, 0, 0), thread (0, 0, 0)",
            1 - block
        ),
    );
    assert_says(
        &r,
        &format!(
            "allocation {word:#x}..{:#x} (4 bytes, cuMemAlloc, device 0)",
            word + 4
        ),
    );
}

#[test]
fn reading_memory_never_written_is_an_initcheck_fault() {
    let _s = Session::new();
    let ptx = checks_ptx();
    let m = Module::checks();
    const N: usize = 100;
    let n = N as i32;
    let f = m.function("add_one");
    let out = alloc_i32(N);

    let written = alloc_i32(N);
    // SAFETY: plain driver call on a live allocation.
    ok(unsafe { cuMemsetD32_v2(written, 41, N) });
    ok(launch(f, 4, 32, LEGACY, &[&written, &out, &n]));
    ok(ctx_sync());
    assert_eq!(download::<i32>(out, N), vec![42; N]);
    assert_clean();

    let never = alloc_i32(N);
    ok(launch(f, 4, 32, LEGACY, &[&never, &out, &n]));
    assert_sticky(ctx_sync, CUDA_ERROR_LAUNCH_FAILED);
    let r = one_report(Check::Initcheck);
    assert_eq!(
        r.summary,
        format!(
            "read of 4 bytes at {never:#x} includes uninitialized device memory (first at {never:#x})"
        )
    );
    assert_located(&r, &ptx, "add_one", "ld.global.u32");
    assert_says(&r, "block (0, 0, 0), thread (0, 0, 0)");
    assert_says(
        &r,
        &format!(
            "allocation {never:#x}..{:#x} (400 bytes, cuMemAlloc, device 0)",
            never + 400
        ),
    );
}

#[test]
fn a_launch_on_freed_memory_is_a_use_after_free() {
    let _s = Session::new();
    let ptx = checks_ptx();
    let m = Module::checks();
    const N: usize = 64;
    let n = N as i32;
    let f = m.function("add_one");
    let (buf, out) = (alloc_i32(N), alloc_i32(N));
    // SAFETY: plain driver call on a live allocation.
    ok(unsafe { cuMemsetD32_v2(buf, 1, N) });

    ok(launch(f, 2, 32, LEGACY, &[&buf, &out, &n]));
    ok(ctx_sync());
    assert_eq!(download::<i32>(out, N), vec![2; N]);
    assert_clean();

    // SAFETY: frees a live allocation.
    ok(unsafe { cuMemFree_v2(buf) });
    ok(launch(f, 2, 32, LEGACY, &[&buf, &out, &n]));
    assert_sticky(ctx_sync, CUDA_ERROR_ILLEGAL_ADDRESS);
    let r = one_report(Check::Memcheck);
    assert_eq!(
        r.summary,
        format!("use after free: read of 4 bytes at {buf:#x}")
    );
    assert_located(&r, &ptx, "add_one", "ld.global.u32");
    assert_says(&r, "block (0, 0, 0), thread (0, 0, 0)");
    assert_says(
        &r,
        &format!(
            "address {buf:#x} is in allocation {buf:#x}..{:#x} (256 bytes, cuMemAlloc), already freed by cuMemFree",
            buf + 256
        ),
    );
}

#[test]
fn a_misaligned_load_is_a_memcheck_fault() {
    let _s = Session::new();
    let ptx = checks_ptx();
    let m = Module::checks();
    let f = m.function("load_at");
    let bytes = alloc_i32(16);
    let out = alloc_i32(1);
    // SAFETY: plain driver call on a live allocation.
    ok(unsafe { cuMemsetD32_v2(bytes, 0x0403_0201, 16) });

    ok(launch(f, 1, 1, LEGACY, &[&bytes, &4i32, &out]));
    ok(ctx_sync());
    assert_eq!(download::<i32>(out, 1), [0x0403_0201]);
    assert_clean();

    // `*(const int *)(p + 1)`.
    ok(launch(f, 1, 1, LEGACY, &[&bytes, &1i32, &out]));
    assert_sticky(ctx_sync, CUDA_ERROR_MISALIGNED_ADDRESS);
    let r = one_report(Check::Memcheck);
    assert_eq!(
        r.summary,
        format!(
            "misaligned 4-byte access at {:#x} (Global memory)",
            bytes + 1
        )
    );
    assert_located(&r, &ptx, "load_at", "ld.global.u32");
    assert_says(&r, "block (0, 0, 0), thread (0, 0, 0)");
}

/// Stream A writes `buf` with a kernel, stream B copies it to the host: with an event
/// between them all is well; without, a hazard.
#[test]
fn a_read_on_another_stream_needs_an_event_wait() {
    let _s = Session::new();
    let m = Module::checks();
    const N: usize = 256;
    let n = N as i32;
    let fill = m.function("fill");
    let buf = alloc_i32(N);
    let host = host_alloc::<i32>(N);
    let (a, b) = (stream(CU_STREAM_DEFAULT), stream(CU_STREAM_DEFAULT));
    let e = event();
    let bytes = 4 * N;
    // SAFETY (this block): live streams, event, allocations; `host` holds N i32s.
    unsafe {
        ok(launch(fill, 8, 32, a, &[&buf, &7i32, &n]));
        ok(cuEventRecord(e, a));
        ok(cuStreamWaitEvent(b, e, 0));
        ok(cuMemcpyDtoHAsync_v2(host as *mut c_void, buf, bytes, b));
        ok(cuStreamSynchronize(b));
        let got = std::slice::from_raw_parts(host, N);
        assert!(got.iter().enumerate().all(|(i, &v)| v == 7 + i as i32));
        assert_clean();

        ok(launch(fill, 8, 32, a, &[&buf, &9i32, &n]));
        ok(cuMemcpyDtoHAsync_v2(host as *mut c_void, buf, bytes, b));
        assert_sticky(ctx_sync, CUDA_ERROR_LAUNCH_FAILED);
        let r = one_report(Check::Hazard);
        assert_says(&r, &format!("bytes {buf:#x}..{:#x}", buf + bytes as u64));
        assert_says(&r, &format!("kernel fill on stream {:#x}", a as usize));
        assert_says(
            &r,
            &format!("cuMemcpyDtoHAsync on stream {:#x}", b as usize),
        );
        assert_says(&r, "with no event or stream order between them");
        assert_says(
            &r,
            &format!(
                "allocation {buf:#x}..{:#x} (1024 bytes, cuMemAlloc",
                buf + 1024
            ),
        );
        ok(cuMemFreeHost(host as *mut c_void));
    }
}

/// Waiting on an event orders only what its stream queued before the record: a kernel
/// queued on A after the record still races a read on B.
#[test]
fn an_event_wait_does_not_order_work_queued_after_the_record() {
    let _s = Session::new();
    let m = Module::checks();
    const N: usize = 256;
    let n = N as i32;
    let fill = m.function("fill");
    let buf = alloc_i32(N);
    let host = host_alloc::<i32>(N);
    let (a, b) = (
        stream(CU_STREAM_NON_BLOCKING),
        stream(CU_STREAM_NON_BLOCKING),
    );
    let e = event();
    // SAFETY (this block): live streams, event, allocations; `host` holds N i32s.
    unsafe {
        ok(launch(fill, 8, 32, a, &[&buf, &7i32, &n]));
        ok(cuEventRecord(e, a));
        ok(launch(fill, 8, 32, a, &[&buf, &9i32, &n]));
        ok(cuStreamWaitEvent(b, e, 0));
        ok(cuMemcpyDtoHAsync_v2(host as *mut c_void, buf, 4 * N, b));
        assert_sticky(ctx_sync, CUDA_ERROR_LAUNCH_FAILED);
        let r = one_report(Check::Hazard);
        assert_says(&r, &format!("kernel fill on stream {:#x}", a as usize));
        ok(cuMemFreeHost(host as *mut c_void));
    }
}

/// Stream A writes `buf` with a memset, stream B reads it with a kernel.
#[test]
fn a_kernel_after_a_memset_on_another_stream_needs_an_event_wait() {
    let _s = Session::new();
    let m = Module::checks();
    const N: usize = 256;
    let n = N as i32;
    let add_one = m.function("add_one");
    let (buf, out) = (alloc_i32(N), alloc_i32(N));
    let (a, b) = (
        stream(CU_STREAM_NON_BLOCKING),
        stream(CU_STREAM_NON_BLOCKING),
    );
    let e = event();
    // SAFETY (this block): live streams, event and allocations.
    unsafe {
        ok(cuMemsetD32Async(buf, 5, N, a));
        ok(cuEventRecord(e, a));
        ok(cuStreamWaitEvent(b, e, 0));
        ok(launch(add_one, 8, 32, b, &[&buf, &out, &n]));
        ok(cuStreamSynchronize(b));
        assert_eq!(download::<i32>(out, N), vec![6; N]);
        assert_clean();

        ok(cuMemsetD32Async(buf, 6, N, a));
        ok(launch(add_one, 8, 32, b, &[&buf, &out, &n]));
        assert_sticky(ctx_sync, CUDA_ERROR_LAUNCH_FAILED);
        let r = one_report(Check::Hazard);
        assert_says(&r, &format!("cuMemsetAsync on stream {:#x}", a as usize));
        assert_says(&r, &format!("kernel add_one on stream {:#x}", b as usize));
        assert_says(&r, "with no event or stream order between them");
        assert_says(&r, &format!("allocation {buf:#x}..{:#x}", buf + 1024));
    }
}

/// The legacy default stream orders streams created with flags 0 (both ways), not
/// CU_STREAM_NON_BLOCKING ones.
#[test]
fn the_legacy_stream_orders_blocking_streams_only() {
    let _s = Session::new();
    let m = Module::checks();
    const N: usize = 64;
    let n = N as i32;
    let fill = m.function("fill");
    let buf = alloc_i32(N);
    let host = host_alloc::<i32>(N);
    let bytes = 4 * N;
    // SAFETY (this block): live streams and allocations; `host` holds N i32s.
    unsafe {
        let blocking = stream(CU_STREAM_DEFAULT);
        ok(launch(fill, 2, 32, LEGACY, &[&buf, &3i32, &n]));
        ok(cuMemcpyDtoHAsync_v2(
            host as *mut c_void,
            buf,
            bytes,
            blocking,
        ));
        ok(cuStreamSynchronize(blocking));
        let got = std::slice::from_raw_parts(host, N);
        assert!(got.iter().enumerate().all(|(i, &v)| v == 3 + i as i32));
        // And the other way: the legacy stream waits for the blocking stream.
        ok(launch(fill, 2, 32, blocking, &[&buf, &4i32, &n]));
        ok(cuMemcpyDtoHAsync_v2(
            host as *mut c_void,
            buf,
            bytes,
            LEGACY,
        ));
        ok(cuStreamSynchronize(LEGACY));
        let got = std::slice::from_raw_parts(host, N);
        assert!(got.iter().enumerate().all(|(i, &v)| v == 4 + i as i32));
        assert_clean();

        let non_blocking = stream(CU_STREAM_NON_BLOCKING);
        ok(launch(fill, 2, 32, LEGACY, &[&buf, &5i32, &n]));
        ok(cuMemcpyDtoHAsync_v2(
            host as *mut c_void,
            buf,
            bytes,
            non_blocking,
        ));
        assert_sticky(ctx_sync, CUDA_ERROR_LAUNCH_FAILED);
        let r = one_report(Check::Hazard);
        assert_says(&r, "kernel fill on the legacy default stream");
        assert_says(
            &r,
            &format!("cuMemcpyDtoHAsync on stream {:#x}", non_blocking as usize),
        );
        assert_says(&r, "with no event or stream order between them");
        ok(cuMemFreeHost(host as *mut c_void));
    }
}

/// Queues `spin` on `x` and makes `s` wait for it through an event: work queued on `s`
/// next stays pending for a while.
fn block_behind_spin(m: &Module, spin_out: CUdeviceptr, x: CUstream, s: CUstream) {
    let e = event();
    ok(launch(m.function("spin"), 1, 1, x, &[&spin_out, &SPIN]));
    // SAFETY: live event and streams.
    unsafe {
        ok(cuEventRecord(e, x));
        ok(cuStreamWaitEvent(s, e, 0));
        ok(cuEventDestroy_v2(e));
    }
}

#[test]
fn writing_a_pinned_buffer_under_a_queued_copy_is_a_hazard() {
    let _s = Session::new();
    let m = Module::checks();
    const N: usize = 64;
    let (x, s) = (
        stream(CU_STREAM_NON_BLOCKING),
        stream(CU_STREAM_NON_BLOCKING),
    );
    let spin_out = alloc_i32(1);
    let dev = alloc_i32(N);
    let host = host_alloc::<i32>(N);
    let bytes = 4 * N;
    // SAFETY (this block): live streams and allocations; `host` holds N i32s, written by
    // the host only where the test means to.
    unsafe {
        let h = std::slice::from_raw_parts_mut(host, N);
        h.iter_mut().enumerate().for_each(|(i, v)| *v = i as i32);

        // The host writes the buffer only after the copy completed.
        block_behind_spin(&m, spin_out, x, s);
        ok(cuMemcpyHtoDAsync_v2(dev, host as *const c_void, bytes, s));
        ok(cuStreamSynchronize(s));
        h[0] = -1;
        assert_eq!(download::<i32>(dev, N), (0..N as i32).collect::<Vec<_>>());
        assert_clean();

        // The host writes it while the copy waits behind the spinning kernel.
        block_behind_spin(&m, spin_out, x, s);
        ok(cuMemcpyHtoDAsync_v2(dev, host as *const c_void, bytes, s));
        h[5] = 1234;
        assert_sticky(|| cuStreamSynchronize(s), CUDA_ERROR_LAUNCH_FAILED);
        let r = one_report(Check::Hazard);
        assert_eq!(
            r.summary,
            format!(
                "page-locked buffer {:#x} (bytes 0..{bytes} of the buffer at {:#x}) was written by the host while a copy from it was queued on stream {:#x}",
                host as usize, host as usize, s as usize
            )
        );
        assert_says(&r, &format!("the copy to {dev:#x}"));
        assert_says(&r, &format!("allocation {dev:#x}..{:#x}", dev + 256));
        ok(cuMemFreeHost(host as *mut c_void));
    }
}

#[test]
fn freeing_a_pinned_buffer_with_a_queued_copy_is_a_hazard() {
    let _s = Session::new();
    let m = Module::checks();
    const N: usize = 64;
    let (x, s) = (
        stream(CU_STREAM_NON_BLOCKING),
        stream(CU_STREAM_NON_BLOCKING),
    );
    let spin_out = alloc_i32(1);
    let dev = alloc_i32(N);
    let bytes = 4 * N;
    // SAFETY (this block): live streams and allocations; each host buffer holds N i32s.
    unsafe {
        let host = host_alloc::<i32>(N);
        std::slice::from_raw_parts_mut(host, N).fill(8);
        block_behind_spin(&m, spin_out, x, s);
        ok(cuMemcpyHtoDAsync_v2(dev, host as *const c_void, bytes, s));
        ok(cuStreamSynchronize(s));
        ok(cuMemFreeHost(host as *mut c_void));
        assert_eq!(download::<i32>(dev, N), vec![8; N]);
        assert_clean();

        let host = host_alloc::<i32>(N);
        std::slice::from_raw_parts_mut(host, N).fill(9);
        block_behind_spin(&m, spin_out, x, s);
        ok(cuMemcpyHtoDAsync_v2(dev, host as *const c_void, bytes, s));
        ok(cuMemFreeHost(host as *mut c_void));
        assert_sticky(ctx_sync, CUDA_ERROR_LAUNCH_FAILED);
        let r = one_report(Check::Hazard);
        assert_eq!(
            r.summary,
            format!(
                "cuMemFreeHost of page-locked buffer {:#x} ({bytes} bytes) with 1 queued copies the host never waited for",
                host as usize
            )
        );
    }
}

/// The fatbin fixtures of tools/make-fixtures.sh that hold PTX load through
/// cuModuleLoadData and launch.
#[test]
fn fatbin_modules_launch() {
    let _s = Session::new();
    const N: usize = 100;
    for name in [
        "tiny-zstd.fatbin",
        "tiny-lz4.fatbin",
        "tiny-plain.fatbin",
        "tiny-75-80.fatbin",
        "tiny-80-sm90.fatbin",
    ] {
        let m = Module::try_fatbin(name).unwrap_or_else(|e| panic!("{name}: error {e}"));
        let data = alloc_i32(N);
        let start: Vec<f32> = (0..N).map(|i| i as f32 * 0.5).collect();
        upload(data, &start);
        ok(launch(
            m.function("add_one"),
            4,
            32,
            LEGACY,
            &[&data, &(N as u32)],
        ));
        ok(ctx_sync());
        let want: Vec<f32> = start.iter().map(|v| v + 1.0).collect();
        assert_eq!(download::<f32>(data, N), want, "{name}");
        // SAFETY: frees a live allocation.
        ok(unsafe { cuMemFree_v2(data) });
    }
    assert_clean();
}

#[test]
fn an_unimplemented_driver_function_is_not_supported() {
    let _s = Session::new();
    let mut g = std::ptr::null_mut();
    // SAFETY: a stub that takes nothing; the arguments are ignored.
    assert_eq!(
        unsafe { cuGraphCreate(&mut g, 0) },
        CUDA_ERROR_NOT_SUPPORTED
    );
    // It leaves the context usable.
    ok(ctx_sync());
    assert_clean();
}
