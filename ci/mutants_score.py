#!/usr/bin/env python3
"""Book-keeping for ci/mutants.sh: the score over the kept shards, and mutant names as regexes.

The kept outcome of a shard is mutants/<package>/shard-K-of-N/{caught,missed,timeout,unviable}.txt
(cargo-mutants' own lists, one mutant name a line). Two things change the meaning of a kept
"missed" later without re-running the shard, and the score takes both into account:
  - a test written afterwards kills it: `ci/mutants.sh recheck` re-runs the open missed mutants
    and records those now caught in mutants/<package>/killed.txt;
  - it is equivalent: .cargo/mutants.toml excludes it (exclude_re) and it is not viable.

  mutants_score.py score                     one `score:` line a package, and a total one
  mutants_score.py open PACKAGE              the missed mutants still open, one a line
  mutants_score.py record PACKAGE OUT COMMIT the open ones OUT/caught.txt has, into killed.txt
  mutants_score.py regex NAME                an anchored regex matching exactly the name NAME
  mutants_score.py pick MAX < names          at most MAX names, spread evenly over the list
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEPT = ROOT / "mutants"
LISTS = ("caught", "missed", "timeout", "unviable")


def lines(path):
    if not path.exists():
        return []
    return [
        line.rstrip("\n")
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def equivalent_patterns():
    config = ROOT / ".cargo" / "mutants.toml"
    if not config.exists():
        return []
    return [re.compile(p) for p in tomllib.loads(config.read_text()).get("exclude_re", [])]


def is_equivalent(name, patterns):
    return any(p.search(name) for p in patterns)


def shards(package):
    """The kept shard folders of a package, by (N, K)."""

    def key(d):
        k, n = re.fullmatch(r"shard-(\d+)-of-(\d+)", d.name).groups()
        return int(n), int(k)

    return sorted((d for d in (KEPT / package).glob("shard-*-of-*") if d.is_dir()), key=key)


def tally(package):
    patterns = equivalent_patterns()
    killed = set(lines(KEPT / package / "killed.txt"))
    t = {name: [] for name in LISTS}
    for d in shards(package):
        for name in LISTS:
            t[name] += lines(d / f"{name}.txt")
    equivalent = [m for m in t["missed"] if is_equivalent(m, patterns)]
    later = [m for m in t["missed"] if m in killed and m not in equivalent]
    open_ = [m for m in t["missed"] if m not in killed and m not in equivalent]
    return t, equivalent, later, open_


def score():
    total_caught = total_viable = 0
    packages = sorted(d.name for d in KEPT.iterdir() if d.is_dir()) if KEPT.exists() else []
    for package in packages:
        t, equivalent, later, open_ = tally(package)
        caught = len(t["caught"]) + len(t["timeout"]) + len(later)
        viable = caught + len(open_)
        total_caught += caught
        total_viable += viable
        runs = [d.name.removeprefix("shard-") for d in shards(package)]
        pct = 100.0 * caught / viable if viable else 100.0
        print(
            f"score: {pct:.1f}% ({caught} of {viable} viable mutants caught) — {package}, "
            f"shards {', '.join(runs)}; {len(t['timeout'])} timeouts and {len(later)} killed by "
            f"later tests counted as caught, {len(equivalent)} equivalent, "
            f"{len(t['unviable'])} unviable"
        )
        for m in open_:
            print(f"  open: {m}")
    if len(packages) > 1:
        pct = 100.0 * total_caught / total_viable if total_viable else 100.0
        print(f"score: {pct:.1f}% ({total_caught} of {total_viable} viable mutants caught) — all")


def regex(name):
    # The characters regex::escape escapes (Python's re.escape also escapes spaces, which the
    # Rust regex crate rejects).
    return "^" + re.sub(r"([\\.+*?()|\[\]{}^$#&\-~])", r"\\\1", name) + "$"


def pick(maximum, names):
    if len(names) <= maximum:
        return names
    return [names[i * len(names) // maximum] for i in range(maximum)]


def record(package, out, commit):
    _, _, _, open_ = tally(package)
    caught = set(lines(Path(out) / "caught.txt")) | set(lines(Path(out) / "timeout.txt"))
    now = [m for m in open_ if m in caught]
    still = [m for m in open_ if m not in caught]
    if now:
        path = KEPT / package / "killed.txt"
        with path.open("a") as f:
            if not path.stat().st_size:
                f.write("# Missed mutants of the kept shards that a later test kills (ci/mutants.sh recheck).\n")
            f.write(f"# recheck at {commit}\n")
            f.writelines(m + "\n" for m in now)
    print(f"recheck: {len(now)} now caught, {len(still)} still missed")
    for m in still:
        print(f"  still missed: {m}")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "score":
        score()
    elif cmd == "open":
        for m in tally(argv[2])[3]:
            print(m)
    elif cmd == "record":
        record(argv[2], argv[3], argv[4])
    elif cmd == "regex":
        print(regex(argv[2]))
    elif cmd == "pick":
        for m in pick(int(argv[2]), [line.rstrip("\n") for line in sys.stdin if line.strip()]):
            print(m)
    else:
        print(__doc__, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
