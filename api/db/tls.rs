//! OpenSSL start-up for libpq, without OpenSSL's exit handler.
//!
//! libpq talks TLS through OpenSSL (Debian's PostgreSQL has `ssl = on`, and
//! libpq's default `sslmode=prefer` uses it even to 127.0.0.1). Whichever
//! caller initialises OpenSSL first decides whether OpenSSL registers
//! `OPENSSL_cleanup` with `atexit`. libpq initialises it without
//! `OPENSSL_INIT_NO_ATEXIT`, so when libpq came first, `exit()` freed
//! OpenSSL's global state on the main thread while pool threads still held
//! TLS connections and other threads were ending (their thread-local OpenSSL
//! destructors touch the same state): a use-after-free that aborted the
//! process after its work was done (`corrupted size vs. prev_size`,
//! `free(): invalid pointer`, SIGSEGV in `OPENSSL_cleanup`). This is
//! OpenSSL issue 3505, and the reason rust-openssl initialises with
//! `OPENSSL_INIT_NO_ATEXIT`.
//!
//! So OpenSSL is initialised through rust-openssl before the first libpq
//! connection: no exit handler is registered, and the operating system
//! reclaims OpenSSL's memory when the process ends.

/// Initialises OpenSSL without an exit handler. Idempotent and cheap; call
/// before anything that may make libpq (or any C library) touch OpenSSL.
pub fn init_tls() {
    openssl::init();
}
