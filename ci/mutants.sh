#!/usr/bin/env bash
# Mutation testing with cargo-mutants (MUTANTS.md: why, how, the score and the equivalent mutants).
#
#   ci/mutants.sh shard K N [PACKAGE]  one shard (K of 0..N-1, round-robin) of the full run over
#                                      PACKAGE (lockproof, the default, or lockproof-harness: its
#                                      monitors and engine glue only); the outcome is kept in the
#                                      repository under mutants/PACKAGE/shard-K-of-N/, so that every
#                                      shard runs once across sessions.
#   ci/mutants.sh score                the score line of every package, summed over the kept shards.
#   ci/mutants.sh recheck [PACKAGE]    re-runs the kept shards' missed mutants (after a new test) and
#                                      records the ones now caught in mutants/PACKAGE/killed.txt.
#   ci/mutants.sh list [PACKAGE]       how many mutants a full run has (no build).
#   ci/mutants.sh diff                 the CI step: a few mutants of the primitives, monitor and
#                                      engine code that the change touches; fails on a missed one.
#
# Equivalent mutants are excluded in .cargo/mutants.toml (`exclude_re`, each with its reason).
# cargo-mutants is installed into the build folder when missing (pinned, like ci/fuzz.sh's
# cargo-fuzz). It mutates a copy of the tree and builds it in CARGO_TARGET_DIR (or
# MUTANTS_TARGET_DIR), so the dependencies built by the tests before are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
# 27.1.0: the newest release (it builds with rustc 1.95; its MSRV is 1.88).
version=27.1.0
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
build_target=$(realpath -m "${MUTANTS_TARGET_DIR:-$target}")
work="$target/mutants-work"

# Installed once per machine, outside the checkout (CI runs on a fresh clone each time and the
# install takes ~100 s of its budget): under $MUTANTS_TOOL_DIR, by default in cargo's home.
tool_dir=${MUTANTS_TOOL_DIR:-${CARGO_HOME:-$HOME/.cargo}/lockproof-tools/cargo-mutants-$version}
ensure_cargo_mutants() {
  if [ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $version" ]; then
    if [ ! -x "$tool_dir/bin/cargo-mutants" ]; then
      echo "== installing cargo-mutants $version into $tool_dir"
      # Not in CARGO_TARGET_DIR: cargo install builds in a temporary folder it then removes.
      env -u CARGO_TARGET_DIR cargo install cargo-mutants --version "$version" --locked --quiet \
        --root "$tool_dir"
    fi
    export PATH="$tool_dir/bin:$PATH"
  fi
}

# scope PACKAGE: the cargo-mutants filter of the code the score covers.
scope() {
  case "$1" in
    lockproof) echo "--package lockproof" ;;
    lockproof-harness)
      echo "--package lockproof-harness --file harness/src/monitor/** --file harness/src/engine/**"
      ;;
    *)
      echo "unknown package $1 (lockproof or lockproof-harness)" >&2
      exit 1
      ;;
  esac
}

# run_mutants OUT ARGS...: cargo mutants with its output under OUT; returns its exit code
# (0 all caught, 2 some missed, 3 some timed out; anything else is a failure of the run).
run_mutants() {
  local out=$1
  shift
  rm -rf "$out"
  mkdir -p "$out"
  local rc=0
  # Globs of `scope` must reach cargo-mutants unexpanded.
  set -f
  CARGO_TARGET_DIR="$build_target" cargo mutants --output "$out" "$@" || rc=$?
  set +f
  return "$rc"
}

# keep OUT DEST: the compact outcome (the four name lists) of a run, into the repository.
keep() {
  local out=$1/mutants.out dest=$2
  mkdir -p "$dest"
  for f in caught missed timeout unviable; do
    sort "$out/$f.txt" >"$dest/$f.txt"
  done
}

cmd=${1:-}
shift || true
case "$cmd" in
  shard)
    [ $# -ge 2 ] || { echo "usage: ci/mutants.sh shard K N [PACKAGE]" >&2; exit 1; }
    k=$1 n=$2 pkg=${3:-lockproof}
    ensure_cargo_mutants
    dest="mutants/$pkg/shard-$k-of-$n"
    out="$work/$pkg/shard-$k-of-$n"
    start=$SECONDS
    rc=0
    # shellcheck disable=SC2046 # scope's words are separate arguments
    run_mutants "$out" $(scope "$pkg") --shard "$k/$n" --sharding round-robin \
      --minimum-test-timeout 120 --timeout-multiplier 2 || rc=$?
    case "$rc" in 0 | 2 | 3) ;; *) echo "cargo mutants failed ($rc): $out/mutants.out" >&2; exit "$rc" ;; esac
    keep "$out" "$dest"
    {
      echo "cargo-mutants $version, commit $(git rev-parse --short HEAD), $(date -u +%FT%TZ)"
      echo "shard $k/$n round-robin of $pkg, $((SECONDS - start)) s"
      for f in caught missed timeout unviable; do echo "$f: $(wc -l <"$dest/$f.txt")"; done
    } >"$dest/run.txt"
    cat "$dest/run.txt"
    ;;
  score)
    python3 ci/mutants_score.py score
    ;;
  recheck)
    pkg=${1:-lockproof}
    names=$(python3 ci/mutants_score.py open "$pkg")
    if [ -z "$names" ]; then
      echo "no missed mutant of $pkg is open"
      exit 0
    fi
    ensure_cargo_mutants
    res=()
    while IFS= read -r name; do
      res+=(--re "$(python3 ci/mutants_score.py regex "$name")")
    done <<<"$names"
    out="$work/$pkg/recheck"
    rc=0
    # shellcheck disable=SC2046
    run_mutants "$out" $(scope "$pkg") "${res[@]}" --minimum-test-timeout 120 || rc=$?
    case "$rc" in 0 | 2 | 3) ;; *) echo "cargo mutants failed ($rc): $out/mutants.out" >&2; exit "$rc" ;; esac
    python3 ci/mutants_score.py record "$pkg" "$out/mutants.out" "$(git rev-parse --short HEAD)"
    ;;
  list)
    pkg=${1:-lockproof}
    ensure_cargo_mutants
    set -f
    # shellcheck disable=SC2046
    cargo mutants --list $(scope "$pkg") | wc -l
    set +f
    ;;
  diff)
    # The CI step. Its budget: CI has 30 minutes and used ~24 before this step, so it checks at
    # most MUTANTS_MAX (1) of the diff's mutants, chosen evenly over the list, with a per-mutant
    # timeout, and stops after MUTANTS_STEP_SECONDS (240) whatever is left.
    max=${MUTANTS_MAX:-1}
    cap=${MUTANTS_STEP_SECONDS:-240}
    start=$SECONDS
    if [ -n "${MUTANTS_BASE:-}" ]; then
      base=$MUTANTS_BASE
    else
      base=$(git merge-base HEAD origin/main 2>/dev/null || true)
      if [ -z "$base" ] || [ "$(git rev-parse "$base")" = "$(git rev-parse HEAD)" ]; then
        # A clean clone of main: the last commit is the change.
        base=HEAD~1
      fi
    fi
    if ! base_short=$(git rev-parse --short --verify --quiet "$base^{commit}"); then
      echo "mutants: no base commit $base (a shallow clone?); nothing to check"
      exit 0
    fi
    mkdir -p "$work"
    git diff "$base" -- primitives/src harness/src/monitor harness/src/engine >"$work/diff.patch"
    if [ ! -s "$work/diff.patch" ]; then
      echo "mutants: no change to primitives/src or the harness's monitors and engine since $base_short; nothing to check"
      exit 0
    fi
    ensure_cargo_mutants
    cargo mutants --list --package lockproof --package lockproof-harness \
      --in-diff "$work/diff.patch" >"$work/diff-list.txt"
    total=$(wc -l <"$work/diff-list.txt")
    if [ "$total" -eq 0 ]; then
      echo "mutants: the change since $base_short has no mutants (or only equivalent ones); nothing to check"
      exit 0
    fi
    python3 ci/mutants_score.py pick "$max" <"$work/diff-list.txt" >"$work/diff-picked.txt"
    picked=$(wc -l <"$work/diff-picked.txt")
    echo "mutants: checking $picked of $total mutants in the diff against $base_short:"
    sed 's/^/  /' "$work/diff-picked.txt"
    res=()
    while IFS= read -r name; do
      res+=(--re "$(python3 ci/mutants_score.py regex "$name")")
    done <"$work/diff-picked.txt"
    rm -rf "$work/diff"
    mkdir -p "$work/diff"
    rc=0
    # The tests passed just before in the same CI run: no baseline, an explicit timeout.
    # INT, not TERM: on ^C cargo-mutants stops its child and writes what it has.
    # In place: the mutant is built incrementally on the tests' own build (a copied tree
    # rebuilt everything: 157 s before its first test); cargo-mutants restores each file.
    CARGO_TARGET_DIR="$build_target" timeout -s INT "$cap" cargo mutants --output "$work/diff" \
      --package lockproof --package lockproof-harness --in-diff "$work/diff.patch" "${res[@]}" \
      --in-place --baseline skip --timeout 120 --build-timeout 300 || rc=$?
    o="$work/diff/mutants.out"
    count() { if [ -f "$o/$1.txt" ]; then wc -l <"$o/$1.txt"; else echo 0; fi; }
    caught=$(count caught) missed=$(count missed) timedout=$(count timeout) unviable=$(count unviable)
    done_=$((caught + missed + timedout + unviable))
    note=""
    if [ "$rc" = 124 ]; then note=" (stopped at the step's cap of $cap s)"; fi
    echo "mutants: checked $done_ of $total mutants in the diff (picked $picked): $caught caught," \
      "$timedout timed out, $unviable unviable, $missed missed, in $((SECONDS - start)) s$note"
    if [ "$missed" -gt 0 ]; then
      echo "missed (write a test that kills it, or exclude it in .cargo/mutants.toml with the reason it is equivalent):" >&2
      sed 's/^/  /' "$o/missed.txt" >&2
      exit 1
    fi
    case "$rc" in 0 | 3 | 124) ;; *) echo "cargo mutants failed ($rc): $o" >&2; exit "$rc" ;; esac
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 1
    ;;
esac
