#!/usr/bin/env python3
"""Seed corpus/catalogue/chN.jsonl from the shared catalogue and the tutorial.

Run once per chapter to create the records; the project then edits them by hand (verdict,
reason, covered_by, corrections). It never overwrites an existing chapter file.

    python3 ci/corpus_seed.py ../shared 1 2 3 4 5 6
"""
import json
import os
import sys


def code_block(lines, start):
    """The code block whose opening `---` is on 1-based line `start`, dedented."""
    i = start  # index of the line after the opening ---
    body = []
    while i < len(lines) and lines[i].strip() != "---":
        body.append(lines[i].rstrip("\n"))
        i += 1
    indent = min((len(l) - len(l.lstrip()) for l in body if l.strip()), default=0)
    return "\n".join(l[indent:] for l in body).strip("\n") + "\n", i + 1


def main():
    shared, chapters = sys.argv[1], sys.argv[2:]
    tutorial = open(os.path.join(shared, "seed/python-locks-tutorial.zh.txt"), encoding="utf-8").readlines()
    rows = [json.loads(l) for l in open(os.path.join(shared, "catalogue/examples.jsonl"), encoding="utf-8")]
    for ch in chapters:
        path = os.path.join("corpus", "catalogue", f"ch{ch}.jsonl")
        if os.path.exists(path):
            print(f"{path} exists; left alone")
            continue
        out = []
        for r in rows:
            kind, sec = r["id"].split("-")[0], r["id"].split("-")[1]
            if sec.split(".")[0] != ch:
                continue
            rec = {
                "id": r["id"],
                "line": r["line"],
                "heading": r["heading"],
                "title": r["title"],
            }
            if kind == "ex":
                src, end = code_block(tutorial, r["line"])
                if tutorial[r["line"] - 1].strip() != "---":
                    raise SystemExit(f"{r['id']}: line {r['line']} is not a code fence")
                rec["end_line"] = end
                rec["source"] = src
                rec["claims"] = r["claims"]
            rec["property"] = r["property"]
            rec["shared_seed_defect"] = r["seed_defect"]
            # Filled in by the project:
            rec["verdict"] = None  # "holds" | "violates <property>" | "not-a-scenario" | "rule-wrong"
            rec["reason"] = None  # one line: why this verdict
            rec["covered_by"] = None  # {"scenario": id} | {"test": "path::fn"} | {"none": why}
            out.append(rec)
        with open(path, "w", encoding="utf-8") as f:
            for rec in out:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        print(f"{path}: {len(out)} records")


if __name__ == "__main__":
    main()
