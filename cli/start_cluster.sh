#!/usr/bin/env bash
# `npm start`: foreman (node-foreman's nf) runs the Procfile's three nodes. nf passes only SIGINT on
# to them; a SIGTERM, which is what a supervisor, `timeout`, a container's stop or an IDE's stop
# button sends (npm forwards it here), killed nf alone and left the three nodes running on their
# ports. Here nf runs in a process group of its own, and the first SIGTERM, SIGINT or SIGHUP that
# reaches this script becomes one SIGINT to nf, which stops each node cleanly; the script waits for
# that and exits with nf's status. A terminal's Ctrl-C reaches only this script (and npm, which
# forwards it here too), so nf never gets a second SIGINT, which would kill it before its nodes stop.
# The Procfile is the project's, or the one named by the first argument (tests use their own).
set -u
procfile=$(realpath "${1:-$(dirname "$0")/../Procfile}")
cd "$(dirname "$0")/.."
# Without its Procfile, nf would run `npm start`, which runs this script again, and so on.
if [ ! -f "$procfile" ]; then
  echo "start_cluster: no Procfile at $procfile" >&2
  exit 2
fi
set -m
node_modules/.bin/nf -j "$procfile" start &
nf=$!
set +m
stopping=0
stop() {
  if [ "$stopping" = 0 ]; then
    stopping=1
    kill -INT "$nf" 2>/dev/null
  fi
}
trap stop TERM INT HUP
status=0
# `wait` returns early when a trapped signal arrives: wait again until nf has stopped its nodes.
while kill -0 "$nf" 2>/dev/null; do
  wait "$nf"
  status=$?
done
exit "$status"
