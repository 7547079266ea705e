#!/usr/bin/env bash
# Makes sure the net-snmp tools the tests use as independent peers are
# installed: Debian's snmp and snmpd packages, and snmpsim (the reference
# for snmpsim recordings). need-debian.sh installs the missing ones when
# running as root, otherwise says what is missing (the tests then skip,
# except under CI=true).
set -euo pipefail
missing=()
command -v snmpget >/dev/null 2>&1 || missing+=(snmp)
{ command -v snmpd >/dev/null 2>&1 || [ -x /usr/sbin/snmpd ]; } || missing+=(snmpd)
# snmpsim: the reference the simagent tests walk its example recordings against.
command -v snmpsimd >/dev/null 2>&1 || missing+=(snmpsim)
[ ${#missing[@]} -eq 0 ] && exit 0
exec bash "$(dirname "$0")/need-debian.sh" --for "the tests that use net-snmp" "${missing[@]}"
