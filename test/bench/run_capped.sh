#!/bin/sh
# Runs a command with its memory (anonymous and page cache together) capped by a cgroup, as a
# container limit would: `test/bench/run_capped.sh 300 node ...`. Needs root and a memory cgroup
# (v1 or v2); the kernel reclaims page cache first and kills the command only if it cannot.
set -eu
mib=$1
shift
name="shardkv-capped-$$"
if [ -d /sys/fs/cgroup/memory ]; then
  dir=/sys/fs/cgroup/memory/$name
  mkdir "$dir"
  echo $((mib * 1024 * 1024)) > "$dir/memory.limit_in_bytes"
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  dir=/sys/fs/cgroup/$name
  mkdir "$dir"
  echo $((mib * 1024 * 1024)) > "$dir/memory.max"
else
  echo "run_capped: no memory cgroup here; run the command without a cap" >&2
  exit 2
fi
status=0
sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' capped "$dir" "$@" || status=$?
if [ -f "$dir/memory.max_usage_in_bytes" ]; then
  echo "cgroup peak usage (anonymous + page cache): $(($(cat "$dir/memory.max_usage_in_bytes") / 1024 / 1024)) MiB of $mib MiB"
elif [ -f "$dir/memory.peak" ]; then
  echo "cgroup peak usage (anonymous + page cache): $(($(cat "$dir/memory.peak") / 1024 / 1024)) MiB of $mib MiB"
fi
rmdir "$dir" 2>/dev/null || true
exit $status
