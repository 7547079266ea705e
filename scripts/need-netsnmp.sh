#!/usr/bin/env bash
# Makes sure the net-snmp tools the tests use as independent peers are
# installed: installs Debian's snmp and snmpd packages when running as root,
# and snmpsim (the reference for snmpsim recordings), otherwise says what is missing (the tests then skip, except under CI=true).
set -euo pipefail
missing=()
command -v snmpget >/dev/null 2>&1 || missing+=(snmp)
{ command -v snmpd >/dev/null 2>&1 || [ -x /usr/sbin/snmpd ]; } || missing+=(snmpd)
# snmpsim: the reference the simagent tests walk its example recordings against.
command -v snmpsimd >/dev/null 2>&1 || missing+=(snmpsim)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (net-snmp tools used as test peers)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  exit 0
fi
echo "note: Debian packages ${missing[*]} are not installed (need root to install:" \
  "apt-get install -y ${missing[*]}); tests that use net-snmp will be skipped." >&2
if [ "${CI:-}" = true ]; then
  echo "error: under CI=true the net-snmp tests must run" >&2
  exit 1
fi
