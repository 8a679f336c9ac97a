#!/usr/bin/env bash
# Seed corpora of the fuzz targets, made from the repository's real inputs, under $1/<target>/:
#   schedule_file  every saved schedule (corpus/schedules/**)
#   catalogue      every record of corpus/catalogue/*.jsonl, one a file
#   cli_args       the commands the README and `lockproof help` show (arguments NUL-separated)
#   pattern        a scenario id of the corpus, then the README's patterns (NUL-separated)
# Generated, not committed: they follow the corpus as it grows.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: fuzz/seeds.sh OUT_DIR}
rm -rf "$out"
mkdir -p "$out"/{schedule_file,catalogue,cli_args,pattern}

n=0
while IFS= read -r f; do
  n=$((n + 1)); cp "$f" "$out/schedule_file/$n"
done < <(find corpus/schedules -type f -name '*.schedule' | sort)

n=0
for f in corpus/catalogue/*.jsonl; do
  while IFS= read -r line; do
    n=$((n + 1)); printf '%s\n' "$line" > "$out/catalogue/r$n"
  done < "$f"
done

# `lockproof …` commands: the usage lines of the README and of `lockproof help` (cli.rs), up
# to a comment or an explanation (two spaces), and inline `lockproof …` spans of the README.
{
  grep -ohE '^ *lockproof [^`]*' README.md harness/cli/src/cli.rs
  grep -ohE '`lockproof [^`]*`' README.md | tr -d '`'
  grep -ohE 'cargo run -p lockproof-cli -- [^#]*' README.md | sed 's/.* -- /lockproof /'
  # The same with the placeholders filled in, every check option once.
  cat <<'CMDS'
lockproof list --format json
lockproof check ex-1.* self-* --engine loom,random,pct,dfs --budget 100 --loom-budget 200 --bound 1 --depth 2 --seed 7
lockproof check all --time adversarial --spurious on --shard 2/4 --format junit --junit results.xml --no-save
lockproof check ex-1.4-03 --format json --out corpus --report pages --in-process
lockproof replay corpus/schedules/ex-1.4-03/dfs-bound1-001.schedule
lockproof trace corpus/schedules/ex-1.4-03/dfs-bound1-001.schedule --html out.html
lockproof trace --on ex-1.4-03 corpus/schedules/ex-1.4-03/dfs-bound1-001.schedule
lockproof coverage --check
CMDS
} | grep -v '^ *lockproof *=' | sed -E 's/^ *lockproof //; s/  .*//; s/ +$//' | sort -u > "$out/commands.txt"
n=0
while IFS= read -r cmd; do
  n=$((n + 1)); printf '%s' "$cmd" | tr ' ' '\0' > "$out/cli_args/c$n"
done < "$out/commands.txt"
rm "$out/commands.txt"

n=0
for id in $(ls corpus/schedules); do
  for p in "$id" 'ex-?.?-0?' "${id%-*}*"; do
    n=$((n + 1)); printf '%s\0%s' "$id" "$p" > "$out/pattern/p$n"
  done
done
echo "seeds: $(for t in schedule_file catalogue cli_args pattern; do printf '%s %s  ' "$t" "$(ls "$out/$t" | wc -l)"; done)"
