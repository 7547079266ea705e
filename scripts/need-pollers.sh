#!/usr/bin/env bash
# Makes sure the out-of-process pollers the tests drive are installed:
# Debian's python3-pysnmp4 (the reference exec poller,
# examples/exec-poller/pysnmp_poller.py) and prometheus-snmp-exporter (the
# observed daemon). need-debian.sh installs the missing ones when running
# as root, otherwise says what is missing (those tests then skip, except
# under CI=true). The tests start their own exporter on a free loopback
# port, so a system service the package may start on :9116 does not get in
# their way.
set -euo pipefail
missing=()
/usr/bin/python3 -c 'import pysnmp.hlapi.asyncore' >/dev/null 2>&1 || missing+=(python3-pysnmp4)
[ -x /usr/bin/prometheus-snmp-exporter ] || missing+=(prometheus-snmp-exporter)
[ ${#missing[@]} -eq 0 ] && exit 0
exec bash "$(dirname "$0")/need-debian.sh" --for "the tests of out-of-process pollers" "${missing[@]}"
