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
set -euo pipefail
profile="${1:-quick}"
here="$(cd "$(dirname "$0")/.." && pwd)"
clone="$(mktemp -d "${TMPDIR:-/tmp}/time-book.XXXXXX")/$(basename "$here")"
git clone --quiet "$here" "$clone"
commit="$(git -C "$clone" rev-parse --short HEAD)"
echo "fresh clone of $commit in $clone, profile $profile"

took=0
timed_book() { # $1: label, $2: log file; sets $took
  local start=$SECONDS
  if ! make -C "$clone" book PROFILE="$profile" >"$2" 2>&1; then
    echo "$1: make book failed; the log is $2" >&2
    tail -n 30 "$2" >&2
    exit 1
  fi
  took=$((SECONDS - start))
  printf '%-36s %3d min %02d s\n' "$1:" $((took / 60)) $((took % 60))
  grep -E '^\[run_book\] .* done in' "$2" | sed 's/^\[run_book\]/   /'
}

timed_book "make book, fresh clone" "$clone/time_book.first.log"
first=$took
timed_book "make book again, nothing changed" "$clone/time_book.rerun.log"
"$clone/.venv/bin/python" "$here/scripts/timing_record.py" record "$clone/time_book.first.log" \
  --commit "$commit" --command "make book" --profile "$profile" \
  --seconds "$first" --rerun-seconds "$took"
echo "the book is at $clone/_build/html/index.html"
