#!/usr/bin/env python3
"""Compares instant-query results of two Prometheus-API servers, series by series.

Used to check Strata against a reference Prometheus on the same data at chosen
evaluation times (e.g. times not aligned to the scrape interval, where Prometheus 2.x's
closed and 3.x's left-open range windows select the same samples).

  scripts/promql_compare.py --ref http://127.0.0.1:19090 --got http://127.0.0.1:19291 \
      --time 1795330007.5 --time 1795331303 'sum(rate(x_total[5m])) by (job)' ...
Prints the largest relative difference per query and time.
"""
import argparse
import json
import urllib.parse
import urllib.request


def instant(base, query, t):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": query, "time": t})
    with urllib.request.urlopen(url) as r:
        data = json.load(r)["data"]["result"]
    return {json.dumps(s["metric"], sort_keys=True): float(s["value"][1]) for s in data}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--got", required=True)
    ap.add_argument("--time", action="append", required=True)
    ap.add_argument("queries", nargs="+")
    a = ap.parse_args()
    for t in a.time:
        for q in a.queries:
            want, got = instant(a.ref, q, t), instant(a.got, q, t)
            worst = 0.0
            for k in set(want) | set(got):
                if k not in want or k not in got:
                    worst = float("inf")
                    break
                x, y = want[k], got[k]
                if x != y and not (x != x and y != y):
                    worst = max(worst, abs(x - y) / max(abs(x), abs(y)))
            print(f"t={t} series={len(want)}/{len(got)} max_rel_diff={worst:.3g} {q}")


if __name__ == "__main__":
    main()
