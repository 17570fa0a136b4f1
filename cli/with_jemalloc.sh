#!/bin/sh
# Runs a command (a shardkv node, a benchmark) with jemalloc as its malloc when the machine has it:
#   cli/with_jemalloc.sh node dist/cli/shardkv.js --name n1 ...
# Why: every value LevelDB hands back, and every gRPC message, is a Node Buffer whose memory glibc's
# malloc gives out on the main thread while V8 frees it on a background thread, and the two take
# turns on the same arena lock. On this project's 2-core bench machine that lock cost a fifth of a
# point read; with jemalloc (per-thread caches, no shared lock on that path) bench:storage reads
# went from ~178k/s to ~230k/s and puts from ~38k/s to ~43k/s. Redis and TiKV ship with it for the
# same reasons.
# Its settings (MALLOC_CONF, unless already set): 2 arenas and freed pages returned within a second,
# not jemalloc's 4 arenas a core and 10 s: with its defaults a 1 GiB snapshot install
# (bench:snapshot:capped) peaked at 170 MiB of anonymous memory against glibc's 81; with these, 80,
# and bench:storage runs as fast.
# Debian and Ubuntu: apt-get install libjemalloc2. Without it the command runs on the C library's
# malloc, with a line on stderr saying so. SHARDKV_JEMALLOC=/path/libjemalloc.so.2 names the library;
# SHARDKV_JEMALLOC=off runs without it.
set -eu
lib=${SHARDKV_JEMALLOC:-}
if [ "$lib" = off ]; then exec "$@"; fi
if [ -z "$lib" ]; then
  for candidate in \
    "$(ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2 / { print $NF; exit }')" \
    /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 \
    /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2; do
    if [ -n "$candidate" ] && [ -f "$candidate" ]; then lib=$candidate; break; fi
  done
fi
if [ -n "$lib" ] && [ ! -f "$lib" ]; then
  echo "with_jemalloc: SHARDKV_JEMALLOC names $lib, which is not a file" >&2
  exit 2
fi
if [ -z "$lib" ]; then
  echo "with_jemalloc: no libjemalloc.so.2 here (apt-get install libjemalloc2); running on the C library's malloc" >&2
  exec "$@"
fi
MALLOC_CONF=${MALLOC_CONF:-narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0} LD_PRELOAD="$lib${LD_PRELOAD:+ $LD_PRELOAD}" exec "$@"
