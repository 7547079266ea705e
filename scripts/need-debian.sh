#!/usr/bin/env bash
# Usage: need-debian.sh [--for WHAT] PKG...
# Makes sure the Debian packages PKG... are installed, for the tests WHAT
# names ("the net-snmp tests"). A package dpkg reports installed is left
# alone; the callers (need-netsnmp.sh, need-pollers.sh) pass only the
# packages whose tools they did not find. As root with apt-get, installs the
# missing ones (apt-get update first only if the install fails without it).
# Otherwise says which are missing and how to install them: those tests then
# skip, except under CI=true, where this fails.
set -euo pipefail
what="the tests that need them"
if [ "${1:-}" = --for ]; then
  [ $# -ge 2 ] || { echo "need-debian.sh: --for needs a value" >&2; exit 2; }
  what=$2
  shift 2
fi
missing=()
for pkg in "$@"; do
  case $pkg in
    [a-z0-9]*) ;;
    *) echo "need-debian.sh: not a Debian package name: '$pkg'" >&2; exit 2 ;;
  esac
  if command -v dpkg-query >/dev/null 2>&1 &&
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ]; then
    continue
  fi
  missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages ${missing[*]} (for $what)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
    { echo "error: apt-get could not install ${missing[*]} (for $what)" >&2; exit 1; }
  exit 0
fi
echo "note: Debian packages ${missing[*]} are not installed (need root to install:" \
  "apt-get install -y ${missing[*]}); $what will be skipped." >&2
if [ "${CI:-}" = true ]; then
  echo "error: under CI=true $what must run" >&2
  exit 1
fi
