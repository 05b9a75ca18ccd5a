#!/usr/bin/env bash
# The soak's picture (bench/soak.sh): an SVG with the server's RSS over time above, and
# each read's worst latency per minute below (report, job summary, /healthz).
# Usage: bench/soak_plot.sh rss.tsv reads.tsv > soak.svg
set -euo pipefail
awk -F'\t' '
  FNR == 1 { file++; next }
  file == 1 { t = $1 / 60; rt[++n] = t; rm[n] = $2 / 1024; if (rm[n] > rmax) rmax = rm[n]; if (t > tmax) tmax = t }
  file == 2 { m = int($1 / 60); k = $2; s = $4 * 1000; if (s > worst[k, m]) worst[k, m] = s
              if (m > mmax) mmax = m; if (s > lmax) lmax = s; seen[k] = 1 }
  function x(t) { return 60 + t / (tmax > 0 ? tmax : 1) * 680 }
  function axis(y0, h, top, label, unit,   i, v) {
    printf "<line x1=\"60\" y1=\"%d\" x2=\"740\" y2=\"%d\" stroke=\"#888\"/>\n", y0 + h, y0 + h
    for (i = 0; i <= 4; i++) { v = top * i / 4
      printf "<line x1=\"60\" y1=\"%.1f\" x2=\"740\" y2=\"%.1f\" stroke=\"#eee\"/>", y0 + h - h * i / 4, y0 + h - h * i / 4
      printf "<text x=\"55\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n", y0 + h - h * i / 4 + 4, v }
    printf "<text x=\"60\" y=\"%d\" font-weight=\"bold\">%s (%s)</text>\n", y0 - 8, label, unit
  }
  END {
    if (tmax < mmax + 1) tmax = mmax + 1
    rtop = int(rmax / 100 + 1) * 100; ltop = lmax < 50 ? 50 : int(lmax / 50 + 1) * 50
    print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"520\" font-family=\"sans-serif\" font-size=\"11\">"
    print "<rect width=\"760\" height=\"520\" fill=\"white\"/>"
    axis(30, 180, rtop, "server RSS", "MiB")
    printf "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\""
    for (i = 1; i <= n; i++) printf "%.1f,%.1f ", x(rt[i]), 210 - 180 * rm[i] / rtop
    print "\"/>"
    axis(270, 180, ltop, "worst read latency per minute", "ms")
    split("report job healthz", names, " "); split("#d62728 #2ca02c #9467bd", colours, " ")
    for (j = 1; j <= 3; j++) { k = names[j]; if (!seen[k]) continue
      printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colours[j]
      for (m = 0; m <= mmax; m++) if ((k, m) in worst) printf "%.1f,%.1f ", x(m + 0.5), 450 - 180 * (worst[k, m] > ltop ? ltop : worst[k, m]) / ltop
      print "\"/>"
      printf "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", 600 + 0, 280 + 14 * j, colours[j], (k == "job" ? "job summary" : k == "report" ? "month-to-date report" : "/healthz") }
    for (i = 0; i <= 6; i++) printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>", 60 + 680 * i / 6, 466, int(tmax * i / 6 * 10 + 0.5) / 10
    print "<text x=\"400\" y=\"490\" text-anchor=\"middle\">minutes</text>"
    print "</svg>"
  }' "$1" "$2"
