fn main() -> std::process::ExitCode {
    tame_the_allocator();
    match kasdesa::cli::main_entry() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// glibc keeps freed memory in per-thread arenas and raises its mmap threshold after large frees, so the 19 MiB
/// that each argon2 password hash allocates stayed resident once per worker thread (600 MB after a burst of logins).
/// A fixed mmap threshold returns large blocks to the system when freed, and few arenas bound the rest.
fn tame_the_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}
