# Shared by bench/live_read.sh and bench/soak.sh (sourced; needs GL and MONTH set).

# A percentile (0..100) of a file of seconds, one per line, in ms ("-" when empty).
pct() {
  sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit }
    i = int((NR - 1) * p / 100) + 1; printf "%.1f", a[i] * 1000 }'
}

# A fresh SQLite ledger at $1 (10 s samples, 30 s max gap, A10G at 3.5 CNY/h); prints
# an ingest token and an admin token, one per line.
init_live_ledger() {
  "$GL" init --db "$1" --currency CNY --timezone UTC --interval 10s --max-gap 30s > /dev/null
  printf 'gpu_model,effective_from,price_per_gpu_hour,price_per_kwh,currency\nA10G,2020-01-01T00:00:00Z,3.5,0,CNY\n' \
    > "$1.prices.csv"
  "$GL" import prices --db "$1" "$1.prices.csv" > /dev/null
  "$GL" admin token create --db "$1" --role ingest
  "$GL" admin token create --db "$1" --role admin
}

# Every figure of the live books at $1 equals a from-scratch rebuild (the books tables
# emptied in a copy, the same report by job as of the same instant, byte for byte).
# $2: a prefix for the lines printed.
check_rebuild() {
  local asof
  asof=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  cp "$1" "$1.rebuilt"
  sqlite3 "$1.rebuilt" "DELETE FROM usage; DELETE FROM books;"
  "$GL" report --db "$1" --month "$MONTH" --by job --format json --as-of "$asof" > "$1.live.json"
  "$GL" report --db "$1.rebuilt" --month "$MONTH" --by job --format json --as-of "$asof" > "$1.rebuilt.json"
  if cmp -s "$1.live.json" "$1.rebuilt.json"; then
    echo "${2}live books equal a from-scratch rebuild (report by job as of $asof, byte for byte)"
  else
    echo "${2}LIVE BOOKS DIFFER from a rebuild:"
    diff "$1.live.json" "$1.rebuilt.json" | head -20
  fi
}
