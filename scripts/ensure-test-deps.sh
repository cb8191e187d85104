#!/usr/bin/env bash
# The tests drive the broker with Debian's mosquitto_pub/mosquitto_sub and compare against a real Mosquitto.
# Installs them when missing and we may (root with apt-get); otherwise says what to install.
set -euo pipefail
missing=()
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
[ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages the tests need: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package starts a Mosquitto on 1883; the tests start their own and want the port free.
  (command -v systemctl >/dev/null && systemctl stop mosquitto) >/dev/null 2>&1 || true
  pkill -x mosquitto >/dev/null 2>&1 || true
else
  echo "The tests need these Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
