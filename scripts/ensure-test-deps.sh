#!/usr/bin/env bash
# The tests drive the broker with Debian's mosquitto_pub/mosquitto_sub and compare against a real Mosquitto;
# the TLS tests make throw-away certificates with the openssl CLI;
# the stack tests (e2e/stack) validate docker-compose.yml with docker-compose and run a real Prometheus.
# Installs them when missing and we may (root with apt-get); otherwise says what to install.
set -euo pipefail
missing=()
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
{ [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages the tests need: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start a Mosquitto on 1883 and a Prometheus on 9090; the tests start their own and
  # want the ports free.
  (command -v systemctl >/dev/null && systemctl stop mosquitto) >/dev/null 2>&1 || true
  pkill -x mosquitto >/dev/null 2>&1 || true
  (command -v systemctl >/dev/null && systemctl stop prometheus) >/dev/null 2>&1 || true
  pkill -x prometheus >/dev/null 2>&1 || true
else
  echo "The tests need these Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
