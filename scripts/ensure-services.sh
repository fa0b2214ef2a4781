#!/usr/bin/env bash
# Make sure Redis and PostgreSQL answer on 127.0.0.1 for the test suite (start them if they are
# installed and stopped, install the Debian packages first if they are missing), and that
# Chromium is there for the browser tests.
set -euo pipefail

say() { echo "services: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done; return 1; }

# Redis
if ! port_open 6379; then
  if ! command -v redis-server >/dev/null; then say "installing redis-server"; apt_install redis-server; fi
  say "starting redis-server"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379 || { say "redis did not start"; exit 1; }
fi

# PostgreSQL
if ! port_open 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    say "installing postgresql"
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q "wirewatch-tests" "$hba"; then
    say "allowing trust auth on 127.0.0.1 for the tests"
    as_root sed -i '1i host all all 127.0.0.1/32 trust # wirewatch-tests\nhost all all ::1/128 trust # wirewatch-tests' "$hba"
  fi
  say "starting postgresql $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 || { say "postgresql did not start"; exit 1; }
fi
say "redis and postgresql are up"

# The web UI is tested in Debian's Chromium, driven by Playwright (no browser download).
if ! command -v chromium >/dev/null && [ ! -x /usr/bin/chromium ]; then
  say "installing chromium for the browser tests"
  apt_install chromium
fi
