#!/usr/bin/env bash
# The main job (make demo): runs the bundled quickstart scenario — 1,000
# simulated agents on loopback, polled by pollerlib through jitter, drops, a
# blackholed share, truncated GetBulk and a slow subtree, then recovery —
# shows progress, prints the verdict and where the report is. Needs only the
# binary `make build` put in bin/. Exit status is snmpchaos run's: 0 when
# every invariant holds, 1 when one is violated.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=./bin/snmpchaos
out=${OUT:-out/demo}
if [ ! -x "$bin" ]; then
  echo "demo: $bin is missing; run 'make demo' (it builds first) or 'make build'" >&2
  exit 2
fi

echo "snmpchaos demo: scenario quickstart, about 30 seconds; reports into $out/"
status=0
"$bin" run quickstart --out "$out" "$@" || status=$?
echo
case $status in
  0) echo "demo: every invariant held. Open $out/report.html in a browser for the plots." ;;
  1) echo "demo: an invariant was violated (see above). Open $out/report.html for the plots and evidence." ;;
  130) echo "demo: interrupted; the partial report is in $out/." ;;
esac
exit "$status"
