//! The whole unsafe surface of this crate: a safe, single-threaded wrapper around one libslirp
//! instance (libslirp-sys 4.2 bindings over the system's libslirp), including the poll(2) call of
//! its event loop.
//!
//! [`Slirp`] is neither `Send` nor `Sync` (it holds raw pointers): it is created, driven and dropped
//! on the one thread that runs the loop, which is what libslirp requires.
//!
//! Callbacks get a `*const Ctx` as their opaque pointer. Libslirp calls them re-entrantly from
//! inside `slirp_input` and `slirp_pollfds_poll`, so `Ctx` is only ever reached through shared
//! references and mutates through `RefCell`s whose borrows never span a call into libslirp.

use crate::options::{HostFwd, Proto, UserOptions};
use libslirp_sys as ffi;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::os::fd::RawFd;
use std::ptr::{self, NonNull};
use std::time::Instant;

/// `SlirpConfig.version` we fill in. Version 4 adds `disable_dhcp` (which the binding has) and two
/// callbacks (which the binding's `SlirpCb` lacks); we need neither, so stay at 3.
const CONFIG_VERSION: u32 = 3;

/// `SlirpCb` as libslirp ≥ 4.7 declares it: the binding's fields plus the two version-4 callbacks,
/// left empty, so that even a library that read them would find valid (null) pointers.
#[repr(C)]
struct CallbacksV4 {
    cb: ffi::SlirpCb,
    init_completed: Option<unsafe extern "C" fn(*mut ffi::Slirp, *mut c_void)>,
    timer_new_opaque: Option<unsafe extern "C" fn(c_int, *mut c_void, *mut c_void) -> *mut c_void>,
}

/// Libslirp keeps the callbacks pointer for the instance's lifetime, so it lives in a static.
static CALLBACKS: CallbacksV4 = CallbacksV4 {
    cb: ffi::SlirpCb {
        send_packet: Some(cb_send_packet),
        guest_error: Some(cb_guest_error),
        clock_get_ns: Some(cb_clock_get_ns),
        timer_new: Some(cb_timer_new),
        timer_free: Some(cb_timer_free),
        timer_mod: Some(cb_timer_mod),
        register_poll_fd: Some(cb_register_poll_fd),
        unregister_poll_fd: Some(cb_unregister_poll_fd),
        notify: Some(cb_notify),
    },
    init_completed: None,
    timer_new_opaque: None,
};

/// Receives every frame libslirp emits for the guest.
pub(crate) type OutputFn = Box<dyn Fn(&[u8])>;

struct Timer {
    cb: ffi::SlirpTimerCb,
    cb_opaque: *mut c_void,
    /// Expiry in ms on the [`Ctx::now_ms`] clock; `None` when disarmed.
    expire_ms: Option<i64>,
}

/// What the callbacks see.
struct Ctx {
    output: OutputFn,
    start: Instant,
    /// Timer handles given to libslirp are `index + 1` of this table.
    timers: RefCell<Vec<Option<Timer>>>,
}

impl Ctx {
    fn now_ns(&self) -> i64 {
        self.start.elapsed().as_nanos() as i64
    }
    fn now_ms(&self) -> i64 {
        self.now_ns() / 1_000_000
    }
}

/// Recover the context from an opaque pointer.
///
/// # Safety
/// `opaque` must be the `Ctx` pointer given to `slirp_new` by [`Slirp::new`], whose box lives until
/// after `slirp_cleanup` returns (see `Drop for Slirp`), so it is valid whenever libslirp calls back.
unsafe fn ctx<'a>(opaque: *mut c_void) -> &'a Ctx {
    // SAFETY: guaranteed by the caller (see above); only shared references to Ctx are ever made.
    unsafe { &*(opaque as *const Ctx) }
}

unsafe extern "C" fn cb_send_packet(buf: *const c_void, len: usize, opaque: *mut c_void) -> isize {
    // SAFETY: opaque is our Ctx (the slirp_new opaque).
    let ctx = unsafe { ctx(opaque) };
    if buf.is_null() {
        return 0;
    }
    // SAFETY: libslirp passes a buffer of `len` readable bytes, valid for the duration of the call.
    let frame = unsafe { std::slice::from_raw_parts(buf as *const u8, len) };
    // A panic must not unwind into C; the frame is then simply lost.
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (ctx.output)(frame))).is_err() {
        tracing::error!("slirp output callback panicked; frame dropped");
    }
    len as isize
}

unsafe extern "C" fn cb_guest_error(msg: *const c_char, _opaque: *mut c_void) {
    if msg.is_null() {
        return;
    }
    // SAFETY: libslirp passes a NUL-terminated message valid for the duration of the call.
    let msg = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
    mimic_core::guest_error!("slirp: {msg}");
}

unsafe extern "C" fn cb_clock_get_ns(opaque: *mut c_void) -> i64 {
    // SAFETY: opaque is our Ctx.
    unsafe { ctx(opaque) }.now_ns()
}

unsafe extern "C" fn cb_timer_new(cb: ffi::SlirpTimerCb, cb_opaque: *mut c_void, opaque: *mut c_void) -> *mut c_void {
    // SAFETY: opaque is our Ctx.
    let ctx = unsafe { ctx(opaque) };
    let mut timers = ctx.timers.borrow_mut();
    let t = Timer { cb, cb_opaque, expire_ms: None };
    let idx = match timers.iter().position(Option::is_none) {
        Some(i) => {
            timers[i] = Some(t);
            i
        }
        None => {
            timers.push(Some(t));
            timers.len() - 1
        }
    };
    ptr::without_provenance_mut(idx + 1)
}

fn timer_index(timer: *mut c_void) -> Option<usize> {
    timer.addr().checked_sub(1)
}

unsafe extern "C" fn cb_timer_free(timer: *mut c_void, opaque: *mut c_void) {
    // SAFETY: opaque is our Ctx.
    let ctx = unsafe { ctx(opaque) };
    if let Some(i) = timer_index(timer) {
        if let Some(slot) = ctx.timers.borrow_mut().get_mut(i) {
            *slot = None;
        }
    }
}

unsafe extern "C" fn cb_timer_mod(timer: *mut c_void, expire_ms: i64, opaque: *mut c_void) {
    // SAFETY: opaque is our Ctx.
    let ctx = unsafe { ctx(opaque) };
    if let Some(i) = timer_index(timer) {
        if let Some(Some(t)) = ctx.timers.borrow_mut().get_mut(i) {
            t.expire_ms = Some(expire_ms);
        }
    }
}

unsafe extern "C" fn cb_register_poll_fd(_fd: c_int, _opaque: *mut c_void) {}
unsafe extern "C" fn cb_unregister_poll_fd(_fd: c_int, _opaque: *mut c_void) {}
/// The loop polls again on its own after every round, so a kick needs no action.
unsafe extern "C" fn cb_notify(_opaque: *mut c_void) {}

fn to_poll_events(ev: c_int) -> libc::c_short {
    let mut out = 0;
    if ev & ffi::SLIRP_POLL_IN != 0 {
        out |= libc::POLLIN;
    }
    if ev & ffi::SLIRP_POLL_OUT != 0 {
        out |= libc::POLLOUT;
    }
    if ev & ffi::SLIRP_POLL_PRI != 0 {
        out |= libc::POLLPRI;
    }
    if ev & ffi::SLIRP_POLL_ERR != 0 {
        out |= libc::POLLERR;
    }
    if ev & ffi::SLIRP_POLL_HUP != 0 {
        out |= libc::POLLHUP;
    }
    out
}

fn from_poll_events(ev: libc::c_short) -> c_int {
    let mut out = 0;
    if ev & libc::POLLIN != 0 {
        out |= ffi::SLIRP_POLL_IN;
    }
    if ev & libc::POLLOUT != 0 {
        out |= ffi::SLIRP_POLL_OUT;
    }
    if ev & libc::POLLPRI != 0 {
        out |= ffi::SLIRP_POLL_PRI;
    }
    if ev & (libc::POLLERR | libc::POLLNVAL) != 0 {
        out |= ffi::SLIRP_POLL_ERR;
    }
    if ev & libc::POLLHUP != 0 {
        out |= ffi::SLIRP_POLL_HUP;
    }
    out
}

unsafe extern "C" fn cb_add_poll(fd: c_int, events: c_int, opaque: *mut c_void) -> c_int {
    // SAFETY: opaque is the `&mut Vec<pollfd>` that `poll_once` passes to slirp_pollfds_fill and
    // does not touch until that call returns, so this is the only reference to it.
    let fds = unsafe { &mut *(opaque as *mut Vec<libc::pollfd>) };
    fds.push(libc::pollfd { fd, events: to_poll_events(events), revents: 0 });
    (fds.len() - 1) as c_int
}

unsafe extern "C" fn cb_get_revents(idx: c_int, opaque: *mut c_void) -> c_int {
    // SAFETY: opaque is the `&Vec<pollfd>` that `poll_once` passes to slirp_pollfds_poll and does
    // not mutate during that call.
    let fds = unsafe { &*(opaque as *const Vec<libc::pollfd>) };
    usize::try_from(idx).ok().and_then(|i| fds.get(i)).map_or(0, |p| from_poll_events(p.revents))
}

fn cstring(what: &str, s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{what} contains a NUL byte"))
}

/// One libslirp instance. Single-threaded: create, drive and drop it on the same thread.
pub(crate) struct Slirp {
    ptr: NonNull<ffi::Slirp>,
    ctx: NonNull<Ctx>,
}

impl Slirp {
    /// Create an instance configured by `opts` (forwards are added separately). `output` receives
    /// every frame libslirp sends to the guest, on the calling thread, from inside [`Self::input`]
    /// and [`Self::poll_once`].
    pub(crate) fn new(opts: &UserOptions, output: OutputFn) -> Result<Slirp, String> {
        let opt_c = |what: &str, s: &Option<String>| s.as_deref().map(|s| cstring(what, s)).transpose();
        let hostname = opt_c("hostname", &opts.hostname)?;
        let domainname = opt_c("domainname", &opts.domainname)?;
        let tftp_server_name = opt_c("tftp-server-name", &opts.tftp_server_name)?;
        let bootfile = opt_c("bootfile", &opts.bootfile)?;
        let tftp =
            opts.tftp.as_ref().map(|p| cstring("tftp", p.to_str().ok_or("tftp path is not UTF-8")?)).transpose()?;
        let search: Vec<CString> = opts.dnssearch.iter().map(|s| cstring("dnssearch", s)).collect::<Result<_, _>>()?;
        let mut search_ptrs: Vec<*const c_char> = search.iter().map(|s| s.as_ptr()).collect();
        search_ptrs.push(ptr::null());
        let p = |s: &Option<CString>| s.as_ref().map_or(ptr::null(), |s| s.as_ptr());

        let cfg = ffi::SlirpConfig {
            version: CONFIG_VERSION,
            restricted: opts.restrict as c_int,
            in_enabled: opts.ipv4,
            vnetwork: opts.net.into(),
            vnetmask: opts.mask.into(),
            vhost: opts.host.into(),
            in6_enabled: opts.ipv6,
            vprefix_addr6: opts.ipv6_prefix.into(),
            vprefix_len: opts.ipv6_prefix_len,
            vhost6: opts.ipv6_host.into(),
            vhostname: p(&hostname),
            tftp_server_name: p(&tftp_server_name),
            tftp_path: p(&tftp),
            bootfile: p(&bootfile),
            vdhcp_start: opts.dhcp_start.into(),
            vnameserver: opts.dns.into(),
            vnameserver6: opts.ipv6_dns.into(),
            vdnssearch: if search.is_empty() { ptr::null_mut() } else { search_ptrs.as_mut_ptr() },
            vdomainname: p(&domainname),
            if_mtu: 0,
            if_mru: 0,
            disable_host_loopback: false,
            enable_emu: false,
            outbound_addr: ptr::null(),
            outbound_addr6: ptr::null(),
            disable_dns: false,
            disable_dhcp: false,
        };
        let ctx =
            NonNull::from(Box::leak(Box::new(Ctx { output, start: Instant::now(), timers: RefCell::new(Vec::new()) })));
        // SAFETY: cfg and every string it points to are valid for the call (libslirp copies what it
        // keeps); CALLBACKS is a static laid out as libslirp's SlirpCb; ctx is a live heap Ctx that
        // outlives the instance (freed in Drop after slirp_cleanup).
        let raw =
            unsafe { ffi::slirp_new(&cfg, ptr::from_ref(&CALLBACKS).cast::<ffi::SlirpCb>(), ctx.as_ptr().cast()) };
        match NonNull::new(raw) {
            Some(ptr) => Ok(Slirp { ptr, ctx }),
            None => {
                // SAFETY: ctx came from Box::leak above and libslirp did not keep it.
                drop(unsafe { Box::from_raw(ctx.as_ptr()) });
                Err("libslirp rejected the configuration".to_string())
            }
        }
    }

    fn ctx(&self) -> &Ctx {
        // SAFETY: ctx is live for as long as self (freed only in Drop).
        unsafe { self.ctx.as_ref() }
    }

    /// Add a `hostfwd=` rule: libslirp binds and listens on the host side now.
    pub(crate) fn add_hostfwd(&self, f: &HostFwd) -> Result<(), ()> {
        // SAFETY: self.ptr is a live instance used from its own thread; arguments are plain values.
        let rc = unsafe {
            ffi::slirp_add_hostfwd(
                self.ptr.as_ptr(),
                (f.proto == Proto::Udp) as c_int,
                f.host_addr.into(),
                c_int::from(f.host_port),
                f.guest_addr.into(),
                c_int::from(f.guest_port),
            )
        };
        if rc < 0 {
            Err(())
        } else {
            Ok(())
        }
    }

    /// Hand one ethernet frame from the guest to libslirp (replies may be output synchronously).
    pub(crate) fn input(&self, frame: &[u8]) {
        let Ok(len) = c_int::try_from(frame.len()) else { return };
        // SAFETY: self.ptr is live; frame is a readable buffer of `len` bytes for the call, and
        // libslirp copies it (and ignores frames shorter than an ethernet header).
        unsafe { ffi::slirp_input(self.ptr.as_ptr(), frame.as_ptr(), len) };
    }

    /// One round of the event loop: wait (at most `max_timeout_ms`) for libslirp's sockets, its
    /// timers or `wake_fd` to become ready, then let libslirp do its work and fire due timers.
    /// Returns true when `wake_fd` is readable.
    pub(crate) fn poll_once(&self, wake_fd: RawFd, max_timeout_ms: u32) -> bool {
        let mut fds: Vec<libc::pollfd> = vec![libc::pollfd { fd: wake_fd, events: libc::POLLIN, revents: 0 }];
        let mut timeout = max_timeout_ms;
        // SAFETY: self.ptr is live; cb_add_poll's opaque is `fds`, exclusively borrowed for the call.
        unsafe {
            ffi::slirp_pollfds_fill(self.ptr.as_ptr(), &mut timeout, Some(cb_add_poll), ptr::from_mut(&mut fds).cast())
        };
        let now = self.ctx().now_ms();
        let next = self.ctx().timers.borrow().iter().flatten().filter_map(|t| t.expire_ms).min();
        let mut timeout = i64::from(timeout);
        if let Some(next) = next {
            timeout = timeout.min((next - now).max(0));
        }
        // SAFETY: fds is a valid array of fds.len() pollfd structs for the duration of the call.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout as c_int) };
        let select_error = rc < 0;
        if select_error {
            fds.iter_mut().for_each(|p| p.revents = 0);
        }
        // SAFETY: self.ptr is live; cb_get_revents's opaque is `fds`, only read during the call.
        unsafe {
            ffi::slirp_pollfds_poll(
                self.ptr.as_ptr(),
                select_error as c_int,
                Some(cb_get_revents),
                ptr::from_mut(&mut fds).cast(),
            )
        };
        self.run_timers();
        fds[0].revents & libc::POLLIN != 0
    }

    fn run_timers(&self) {
        let now = self.ctx().now_ms();
        let due: Vec<(ffi::SlirpTimerCb, *mut c_void)> = self
            .ctx()
            .timers
            .borrow_mut()
            .iter_mut()
            .flatten()
            .filter(|t| t.expire_ms.is_some_and(|e| e <= now))
            .map(|t| {
                t.expire_ms = None;
                (t.cb, t.cb_opaque)
            })
            .collect();
        for (cb, opaque) in due {
            if let Some(cb) = cb {
                // SAFETY: cb and opaque are what libslirp registered with timer_new for a timer it
                // has not freed (it was still in the table); no RefCell borrow is held, so the
                // callback may re-enter timer_mod/timer_free.
                unsafe { cb(opaque) };
            }
        }
    }
}

impl Drop for Slirp {
    fn drop(&mut self) {
        // SAFETY: self.ptr is a live instance, cleaned up exactly once; libslirp may call
        // timer_free and the other callbacks during cleanup, so ctx is freed only afterwards.
        unsafe { ffi::slirp_cleanup(self.ptr.as_ptr()) };
        // SAFETY: ctx came from Box::leak in new() and libslirp no longer references it.
        drop(unsafe { Box::from_raw(self.ctx.as_ptr()) });
    }
}

/// The version string of the linked libslirp.
pub(crate) fn version() -> String {
    // SAFETY: slirp_version_string returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::slirp_version_string()) }.to_string_lossy().into_owned()
}
