#!/usr/bin/env bash
# Installs every Debian package gpuledger's build, tests, benchmarks and demo need.
# Idempotent; run as root (or through sudo). Nothing is fetched from outside Debian here
# (the build's `npm ci` then fetches web/package-lock.json's packages from the npm registry).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libsqlite3-dev sqlite3
  libpq-dev postgresql-15
  libsnappy-dev libcpp-httplib-dev libsodium-dev libxxhash-dev
  libssl-dev openssl
  prometheus victoria-metrics
  libcli11-dev nlohmann-json3-dev libyaml-dev
  libxlsxwriter-dev libreoffice-calc-nogui
  libgtest-dev libgmock-dev libbenchmark-dev
  clang clang-format clang-tidy libclang-rt-14-dev
  tzdata locales
  python3 curl
  slurmctld slurmd slurm-client
  npm chromium fonts-noto-cjk
)

missing=()
for p in "${PACKAGES[@]}"; do
  # A Node.js that brings its own npm (NodeSource's nodejs conflicts with Debian's npm)
  # serves the dashboard's build as well: npm is installed only where there is none.
  if [ "$p" = npm ] && command -v npm > /dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PACKAGES[@]} packages present"
fi

# A comma-decimal locale for the report locale test (prometheus-cpp's idea).
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  $SUDO localedef -i de_DE -f UTF-8 de_DE.UTF-8 || echo "install-deps: could not build de_DE.UTF-8; the locale test will skip"
fi
