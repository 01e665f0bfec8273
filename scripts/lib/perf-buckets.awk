# Groups `perf report --no-children --sort comm,dso,sym --stdio -g none`
# lines ("  12.34%  THREAD  DSO  [.] symbol") by thread and by the kind of
# work a login does, and prints each group's share of the server's samples.
#
# Everything on the password pool's threads (argon2-N) is hashing, its
# memset of the 19 MiB and its page faults included. Elsewhere the symbol
# decides, first matching rule first; C symbols inside the twofold binary
# itself are SQLite (the only C code linked in statically).
# With -v ms_per_login=X, shares are also shown as milliseconds per login.
function kind(thread, dso, sym) {
  if (thread ~ /^argon2-/) return "argon2 pool threads (hashing, incl. its memset/faults)"
  if (sym ~ /argon2|blake2|Blake2/) return "argon2 outside the pool"
  if (sym ~ /^\[k\]/) {
    if (sym ~ /page_fault|clear_page|do_anonymous|handle_mm|alloc_pages|zap_|munmap|mmap|free_pages|release_pages/) return "kernel: page faults, mmap"
    if (sym ~ /tcp|ip_|sock|skb|epoll|loopback|net_rx|napi|netif|__dev_queue|_copy_to_iter|_copy_from_iter/) return "kernel: network (loopback TCP)"
    if (sym ~ /ext4|jbd2|blk_|bio|fsync|filemap|folio|vfs_|write_iter|pwrite|pread|mark_buffer|fdget/) return "kernel: files, fsync"
    if (sym ~ /futex|sched|switch|wake|spin|irq|idle|syscall|entry_|exit_to_user/) return "kernel: syscalls, scheduling, wake-ups"
    return "kernel: other"
  }
  if (sym ~ /malloc|free|realloc|calloc|_int_|arena|tcache|memalign|unlink_chunk|__rust_alloc|__rust_dealloc|raw_vec/) return "allocation (malloc/free)"
  if (sym ~ /sqlite|Sqlite/ || (dso == "twofold" && sym !~ /::|^\[\.\] </)) return "SQLite (incl. bundled C)"
  if (dso ~ /libpq/ || sym ~ /pq_|PQ/) return "PostgreSQL client (libpq)"
  if (dso ~ /libssl|libcrypto/) return "OpenSSL (libpq's TLS to PostgreSQL)"
  if (sym ~ /diesel|r2d2|multi_connection/) return "diesel / r2d2"
  if (sym ~ /jsonwebtoken|ed25519|curve25519|sha2|sha1|Sha1|Sha256|hmac|aes|Aes|ghash|polyval|totp|getrandom|subtle/) return "tokens, other crypto (jwt/ed25519, sha, aes, totp)"
  if (sym ~ /serde|json/) return "JSON (serde)"
  if (sym ~ /tracing|fmt|Formatter|Display/) return "tracing, formatting"
  if (sym ~ /actix|http|h1::|mio|bytes::|Bytes|httparse|router|regex|utoipa|url::/) return "actix, http, routing"
  if (sym ~ /tokio|futures|parking_lot|pthread|Condvar|Mutex|mpsc|mpmc|oneshot|sync::|epoll|futex/) return "runtime, locks, channels"
  if (sym ~ /memcpy|memmove|memset|memcmp|strlen/) return "memcpy/memset/memcmp"
  return "other (" dso ")"
}
# Inside the pool: the hash itself, zeroing its 19 MiB, and the kernel
# (page faults when the allocator handed back fresh pages).
function pool_kind(sym) {
  if (sym ~ /memset/) return "memset (zeroing the 19 MiB block array)"
  if (sym ~ /memmove|memcpy/) return "memcpy/memmove"
  if (sym ~ /argon2|blake2|Blake2/) return "argon2 compress / fill_blocks / blake2b"
  if (sym ~ /^\[k\]/) return "kernel (page faults, zeroing fresh pages, scheduling)"
  if (sym ~ /malloc|free|_int_|arena|heap/) return "malloc/free"
  return "other"
}
/%/ {
  pct = $1
  sub(/%/, "", pct)
  thread = $2
  dso = $3
  sym = $0
  sub(/^ *[0-9.]+% +[^ ]+ +[^ ]+ +/, "", sym)
  group = thread
  gsub(/[0-9]+$/, "N", group)
  by_thread[group] += pct
  by_kind[kind(thread, dso, sym)] += pct
  if (thread ~ /^argon2-/) by_pool[pool_kind(sym)] += pct
  total += pct
}
function show(table, k) {
  for (k in table) {
    if (ms_per_login > 0) printf "%6.1f%% %6.2f ms  %s\n", table[k], table[k] * ms_per_login / 100, k | "sort -rn"
    else printf "%6.1f%%  %s\n", table[k], k | "sort -rn"
  }
  close("sort -rn")
}
END {
  if (ms_per_login > 0) print "-- server samples by thread (share, CPU ms per login)"
  else print "-- server samples by thread"
  show(by_thread)
  print "-- inside the argon2 pool threads"
  show(by_pool)
  print "-- server samples by kind of work"
  show(by_kind)
  printf "%6.1f%%  (all listed samples)\n", total
}
