#!/usr/bin/env bash
# Makes sure the out-of-process pollers the tests drive are installed:
# Debian's python3-pysnmp4 (the reference exec poller,
# examples/exec-poller/pysnmp_poller.py) and prometheus-snmp-exporter (the
# observed daemon). Installs them when running as root, otherwise says what
# is missing (those tests then skip, except under CI=true). The tests start
# their own exporter on a free loopback port, so a system service the
# package may start on :9116 does not get in their way.
set -euo pipefail
missing=()
/usr/bin/python3 -c 'import pysnmp.hlapi.asyncore' >/dev/null 2>&1 || missing+=(python3-pysnmp4)
[ -x /usr/bin/prometheus-snmp-exporter ] || missing+=(prometheus-snmp-exporter)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (pollers the tests drive out of process)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  exit 0
fi
echo "note: Debian packages ${missing[*]} are not installed (need root to install:" \
  "apt-get install -y ${missing[*]}); tests of out-of-process pollers will be skipped." >&2
if [ "${CI:-}" = true ]; then
  echo "error: under CI=true the out-of-process poller tests must run" >&2
  exit 1
fi
