"""Helpers of bench/matching.sh (standard library only).

    python bench/matching_eval.py score PAIRS.csv TRUTH.csv [DATA TOOL TIMEFILE]
        precision, recall and F1 of the (first column, second column) pairs
        of PAIRS.csv against TRUTH.csv, as one JSON line; with the data's
        name, the tool's and the output of /usr/bin/time -f "%e %M %U %S"
    python bench/matching_eval.py febrl DATASET4A.csv DATASET4B.csv OUTDIR
        FEBRL4 in the person-import layout (a.csv, b.csv) with truth.csv:
        the mapping of crates/matching/examples/febrl4.rs (surname, given
        name, date of birth, soc_sec_id as service number, suburb as place
        of birth, street number and address as unit); the id is the
        record's rec-N part, so the truth is "same id"
    python bench/matching_eval.py table RESULTS.jsonl
        the side-by-side table with ratios
"""

import csv
import json
import sys


def pairs_of(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        next(rows, None)
        return {(r[0], r[1]) for r in rows if len(r) >= 2}


def score(pairs_path, truth_path, data=None, tool=None, time_path=None):
    found, truth = pairs_of(pairs_path), pairs_of(truth_path)
    tp = len(found & truth)
    fp, fn = len(found) - tp, len(truth) - tp
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    out = {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn}
    if time_path:
        # /usr/bin/time writes its line last (a failed command's note before it).
        secs, kb, user, system = open(time_path, encoding="utf-8").read().split()[-4:]
        out.update(data=data, tool=tool, seconds=float(secs), kb=int(kb), cpu=float(user) + float(system))
    print(json.dumps(out))


def febrl(a_path, b_path, out):
    header = ["record_id", "family_name", "given_names", "birth_date", "place_of_birth", "service_number", "unit"]
    ids = []
    for src, name in ((a_path, "a.csv"), (b_path, "b.csv")):
        seen = set()
        with open(src, newline="", encoding="utf-8") as f, open(f"{out}/{name}", "w", newline="", encoding="utf-8") as g:
            rows = csv.reader(f)
            next(rows)
            w = csv.writer(g)
            w.writerow(header)
            for r in rows:
                r = [c.strip() for c in r]
                rid = "-".join(r[0].split("-")[:2])
                dob = r[9]
                born = f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 and dob.isdigit() else ""
                # Dates that do not exist (month 13, day 0) are typos the
                # matcher reads as missing; the CSV reader would reject them.
                if born and not (1 <= int(dob[4:6]) <= 12 and 1 <= int(dob[6:]) <= 31):
                    born = ""
                if not r[1] and not r[2]:
                    r[2] = "unknown"
                w.writerow([rid, r[2], r[1], born, r[6], r[10], f"{r[3]} {r[4]}".strip()])
                seen.add(rid)
        ids.append(seen)
    with open(f"{out}/truth.csv", "w", newline="", encoding="utf-8") as g:
        w = csv.writer(g)
        w.writerow(["a_id", "b_id"])
        for rid in sorted(ids[0] & ids[1]):
            w.writerow([rid, rid])


def table(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    print(
        f"{'data':<28} {'tool':<9} {'precision':>9} {'recall':>7} {'F1':>7} {'1-F1':>7} "
        f"{'time s':>8} {'cpu s':>8} {'peak MB':>8}"
    )
    by_data = {}
    for r in rows:
        by_data.setdefault(r["data"], {})[r["tool"]] = r
    for data, tools in by_data.items():
        for tool, r in tools.items():
            print(
                f"{data:<28} {tool:<9} {r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} "
                f"{1 - r['f1']:>7.4f} {r['seconds']:>8.1f} {r['cpu']:>8.1f} {r['kb'] / 1024:>8.0f}"
            )
        h, s = tools.get("homeward"), tools.get("splink")
        if h and s:
            err = (1 - h["f1"]) / (1 - s["f1"]) if s["f1"] < 1 else float("nan")
            print(
                f"{'':<28} {'ratio':<9} error homeward/splink {err:.2f}; "
                f"splink/homeward time {s['seconds'] / max(h['seconds'], 1e-9):.1f}x, "
                f"cpu {s['cpu'] / max(h['cpu'], 1e-9):.1f}x, "
                f"memory {s['kb'] / max(h['kb'], 1):.1f}x"
            )


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"score": score, "febrl": febrl, "table": table}[cmd](*args)
