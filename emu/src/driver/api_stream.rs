//! Streams and events: `cuStream*`, `cuEvent*`.

use std::ffi::{c_float, c_int, c_uint};
use std::sync::Arc;

use super::stream::{Event, Stream, host_join};
use super::{
    CUresult, Handle, INVALID_HANDLE, INVALID_VALUE, NOT_READY, Object, SUCCESS, current,
    current_ok, driver, lock, out, ret,
};

/// The stream a handle names in the current context: 0 and 1 the legacy default stream,
/// 2 the calling thread's default stream.
pub fn stream_of(h: Handle) -> Result<Arc<Stream>, CUresult> {
    match h as usize {
        0 | 1 => Ok(current()?.legacy.clone()),
        2 => {
            let c = current()?;
            let mut per = lock(&c.per_thread);
            let id = std::thread::current().id();
            let d = driver()?;
            let jitter = d.config.jitter.map(|s| (s, d.config.jitter_us));
            Ok(per
                .entry(id)
                .or_insert_with(|| Stream::new(2, c.shared.clone(), 0, false, jitter))
                .clone())
        }
        _ => match driver()?.get(h) {
            Some(Object::Stream(s)) => Ok(s),
            _ => Err(INVALID_HANDLE),
        },
    }
}

/// What an operation on `s` must wait for besides `s` itself: the legacy stream waits for
/// every blocking stream of its context, a blocking stream for the legacy stream.
pub fn implicit_waits(s: &Arc<Stream>) -> Result<Vec<(Arc<Stream>, u64)>, CUresult> {
    let c = current()?;
    if s.ctx.id != c.shared.id {
        // A stream of another context: ordered by nothing implicit in this one.
        return Ok(vec![]);
    }
    if s.legacy {
        let mut w: Vec<(Arc<Stream>, u64)> = lock(&c.streams)
            .iter()
            .filter(|x| x.blocking)
            .map(|x| (x.clone(), x.enqueued()))
            .collect();
        for x in lock(&c.per_thread).values() {
            w.push((x.clone(), x.enqueued()));
        }
        Ok(w)
    } else if s.blocking {
        Ok(vec![(c.legacy.clone(), c.legacy.enqueued())])
    } else {
        Ok(vec![])
    }
}

fn event_of(h: Handle) -> Result<Arc<Event>, CUresult> {
    match driver()?.get(h) {
        Some(Object::Event(e)) => Ok(e),
        _ => Err(INVALID_HANDLE),
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamCreate(s: *mut Handle, flags: c_uint) -> CUresult {
    ret(current_ok().and_then(|c| {
        if flags > 1 {
            return Err(INVALID_VALUE);
        }
        let d = driver()?;
        let jitter = d.config.jitter.map(|s| (s, d.config.jitter_us));
        // The stream knows its handle (reports name it).
        let h = d.reserve();
        let stream = Stream::new(h, c.shared.clone(), flags, false, jitter);
        d.register_at(h, Object::Stream(stream.clone()));
        lock(&c.streams).push(stream);
        unsafe { out(s, h as Handle) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamCreateWithPriority(
    s: *mut Handle,
    flags: c_uint,
    _priority: c_int,
) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuStreamCreate(s, flags) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamDestroy_v2(h: Handle) -> CUresult {
    ret(driver().and_then(|d| {
        let s = match d.get(h) {
            Some(Object::Stream(s)) => s,
            _ => return Err(INVALID_HANDLE),
        };
        d.unregister(h as usize);
        // Queued work still completes, as with the real driver; the context keeps the
        // stream until it has (its synchronization and teardown wait for it).
        s.close();
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamSynchronize(h: Handle) -> CUresult {
    ret(stream_of(h).and_then(|s| {
        if s.legacy {
            // The legacy stream also waits for blocking streams: queue a marker and wait.
            let waits = implicit_waits(&s)?;
            let info = s.enqueue(waits, None, Box::new(|_| {}));
            s.wait(info.seq);
            host_join(&info.clock);
        } else {
            s.synchronize();
        }
        if let Ok(c) = current() {
            super::api_mem::trim_after_sync(&c);
        }
        s.ctx.check()
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamQuery(h: Handle) -> CUresult {
    match stream_of(h) {
        Ok(s) => {
            if let Err(e) = s.ctx.check() {
                return e;
            }
            if s.done(s.enqueued()) {
                SUCCESS
            } else {
                NOT_READY
            }
        }
        Err(e) => e,
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamWaitEvent(h: Handle, e: Handle, flags: c_uint) -> CUresult {
    ret(stream_of(h).and_then(|s| {
        s.ctx.check()?;
        let ev = event_of(e)?;
        if flags > 1 {
            return Err(INVALID_VALUE);
        }
        // An event never recorded is complete: nothing to wait for.
        if let Some(r) = ev.last() {
            let mut waits = implicit_waits(&s)?;
            waits.push((r.stream.clone(), r.seq));
            s.enqueue(waits, Some(&r.clock), Box::new(|_| {}));
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamGetCtx(h: Handle, ctx: *mut Handle) -> CUresult {
    ret(stream_of(h).and_then(|s| {
        let d = driver()?;
        let c = d.context_by_id(s.ctx.id).ok_or(INVALID_HANDLE)?;
        unsafe { out(ctx, c.handle as Handle) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamGetFlags(h: Handle, flags: *mut c_uint) -> CUresult {
    ret(stream_of(h).and_then(|s| unsafe { out(flags, s.flags) }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamGetPriority(h: Handle, p: *mut c_int) -> CUresult {
    ret(stream_of(h).and_then(|_| unsafe { out(p, 0) }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuStreamGetId(h: Handle, id: *mut u64) -> CUresult {
    ret(stream_of(h).and_then(|s| unsafe { out(id, s.id) }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEventCreate(e: *mut Handle, flags: c_uint) -> CUresult {
    ret(current_ok().and_then(|_| {
        if flags > 0xf {
            return Err(INVALID_VALUE);
        }
        let d = driver()?;
        let h = d.reserve();
        d.register_at(
            h,
            Object::Event(Arc::new(Event {
                ctx: current()?.shared.id,
                recorded: std::sync::Mutex::new(None),
            })),
        );
        unsafe { out(e, h as Handle) }
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEventDestroy_v2(e: Handle) -> CUresult {
    ret(driver().and_then(|d| {
        event_of(e)?;
        d.unregister(e as usize);
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEventRecord(e: Handle, h: Handle) -> CUresult {
    ret(stream_of(h).and_then(|s| {
        s.ctx.check()?;
        let ev = event_of(e)?;
        if ev.ctx != s.ctx.id {
            // As the driver: an event is recorded only on a stream of its own context (a
            // stream handle 0 names the legacy stream of the CURRENT context).
            crate::report::record(crate::report::Report {
                check: crate::report::Check::Hazard,
                summary: format!(
                    "cuEventRecord of an event of another context on {}",
                    s.describe()
                ),
                details: vec![
                    "make the event's context current, or pass a stream of its context".into(),
                ],
            });
            return Err(INVALID_HANDLE);
        }
        if s.legacy {
            // Recording on the legacy stream captures the blocking streams' work too.
            let waits = implicit_waits(&s)?;
            if !waits.is_empty() {
                s.enqueue(waits, None, Box::new(|_| {}));
            }
        }
        ev.record(&s);
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEventRecordWithFlags(e: Handle, h: Handle, _flags: c_uint) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuEventRecord(e, h) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEventQuery(e: Handle) -> CUresult {
    match event_of(e) {
        Ok(ev) => match ev.last() {
            Some(r) if !r.stream.done(r.seq) => NOT_READY,
            _ => SUCCESS,
        },
        Err(x) => x,
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEventSynchronize(e: Handle) -> CUresult {
    ret(event_of(e).and_then(|ev| {
        if let Some(r) = ev.last() {
            r.stream.wait(r.seq);
            host_join(&r.clock);
            r.stream.ctx.check()?;
        }
        Ok(())
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEventElapsedTime(
    ms: *mut c_float,
    start: Handle,
    end: Handle,
) -> CUresult {
    ret((|| {
        let (a, b) = (event_of(start)?, event_of(end)?);
        let (Some(ra), Some(rb)) = (a.last(), b.last()) else {
            return Err(super::INVALID_HANDLE);
        };
        if !ra.stream.done(ra.seq) || !rb.stream.done(rb.seq) {
            return Err(NOT_READY);
        }
        let (ta, tb) = (*lock(&ra.time), *lock(&rb.time));
        let (Some(ta), Some(tb)) = (ta, tb) else {
            return Err(NOT_READY);
        };
        let v = if tb >= ta {
            (tb - ta).as_secs_f32() * 1000.0
        } else {
            -((ta - tb).as_secs_f32() * 1000.0)
        };
        unsafe { out(ms, v) }
    })())
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuEventElapsedTime_v2(
    ms: *mut c_float,
    start: Handle,
    end: Handle,
) -> CUresult {
    // SAFETY: forwarded.
    unsafe { cuEventElapsedTime(ms, start, end) }
}
