#!/usr/bin/env bash
# Times the README's book command as a new user meets it: a fresh clone of this checkout's HEAD
# (committed work only), `make book` there (install, every notebook, the HTML build), then
# `make book` again with nothing changed (every run read from the cache). Prints both wall times
# and the per-notebook times that run_book reports, and saves them as the book's timing record
# (results/timing/make_book.csv and make_book_run.csv in THIS checkout, each written atomically;
# another profile's under results/timing/<profile>/; the "Reproducing this book" page shows the
# quick profile's). The logs stay in the clone's folder.
#
#   bash scripts/time_book.sh            # quick profile, the book's default
#   bash scripts/time_book.sh smoke      # the same path in a few minutes
#   bash scripts/time_book.sh quick --resume /tmp/time-book.AbC123/show-me-how-its-done
#
# --resume goes on in the clone of a stopped attempt (a session that ended mid-book): every run
# it finished is in that clone's cache, and the record counts each attempt's time. Each attempt
# logs to time_book.first.<n>.log with a heartbeat file beside it (<log>.alive), so a stopped
# attempt is timed to within 30 s (scripts/timing_record.py says how). Put the clone somewhere
# that outlives the session (TMPDIR=/some/lasting/folder) if the book may not finish in one.
set -euo pipefail
profile="${1:-quick}"
here="$(cd "$(dirname "$0")/.." && pwd)"
if [[ "${2:-}" == "--resume" ]]; then
  clone="${3:?--resume needs the clone folder of the stopped attempt}"
  [[ -d "$clone/.git" ]] || { echo "--resume: $clone is not a clone (no .git)" >&2; exit 2; }
  echo "resuming in $clone, profile $profile"
else
  clone="$(mktemp -d "${TMPDIR:-/tmp}/time-book.XXXXXX")/$(basename "$here")"
  git clone --quiet "$here" "$clone"
  echo "fresh clone in $clone, profile $profile"
fi
commit="$(git -C "$clone" rev-parse --short HEAD)"
echo "commit $commit"

took=0
timed_book() { # $1: label, $2: log file; sets $took
  local start=$SECONDS began heartbeat
  began="$(date +%s)"
  # "<start> <last seen running>" every 30 s: what times this attempt if the session stops it
  (while :; do
    echo "$began $(date +%s)" >"$2.alive.tmp" && mv "$2.alive.tmp" "$2.alive"
    sleep 30
  done) &
  heartbeat=$!
  if ! make -C "$clone" book PROFILE="$profile" >"$2" 2>&1; then
    kill "$heartbeat"
    echo "$1: make book failed; the log is $2" >&2
    tail -n 30 "$2" >&2
    exit 1
  fi
  kill "$heartbeat"
  took=$((SECONDS - start))
  printf '%-36s %3d min %02d s\n' "$1:" $((took / 60)) $((took % 60))
  grep -E '^\[run_book\] .* done in' "$2" | sed 's/^\[run_book\]/   /'
}

# the attempts before this one were stopped: their logs are timed by their heartbeats
stopped=()
n=1
while [[ -f "$clone/time_book.first.$n.log" ]]; do
  stopped+=("$clone/time_book.first.$n.log")
  n=$((n + 1))
done
timed_book "make book, fresh clone (attempt $n)" "$clone/time_book.first.$n.log"
first=$took
timed_book "make book again, nothing changed" "$clone/time_book.rerun.log"
"$clone/.venv/bin/python" "$here/scripts/timing_record.py" record \
  "${stopped[@]}" "$clone/time_book.first.$n.log" \
  --commit "$commit" --command "make book" --profile "$profile" \
  --seconds "$first" --rerun-seconds "$took"
echo "the book is at $clone/_build/html/index.html"
