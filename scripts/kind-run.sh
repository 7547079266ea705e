#!/usr/bin/env bash
# Runs one scenario in k8s mode as the harness Job (k8s/harness-job.yaml)
# in the current cluster and waits for it: SCENARIO, then SHORT (true or
# false, default true). The Job's log goes to stdout; its reports land in
# the node's /reports/SCENARIO (the runner's /tmp/snmpchaos-reports with
# k8s/kind/cluster.yaml). Exits with the harness's verdict: 0 pass, 1 not.
set -euo pipefail
scenario=${1:?usage: kind-run.sh SCENARIO [SHORT]}
short=${2:-true}
ns=snmpchaos
cd "$(dirname "$0")/.."
kubectl -n "$ns" delete job snmpchaos-harness --ignore-not-found --wait=true
kubectl set env --local -f k8s/harness-job.yaml -o yaml \
	SNMPCHAOS_SCENARIO="$scenario" SNMPCHAOS_SHORT="$short" | kubectl apply -f -
# Wait for the pod to start, then follow its log until it ends.
kubectl -n "$ns" wait --for=condition=Ready pod -l job-name=snmpchaos-harness --timeout=300s ||
	kubectl -n "$ns" describe pod -l job-name=snmpchaos-harness
kubectl -n "$ns" logs -f job/snmpchaos-harness || true
# The Job itself ends within its activeDeadlineSeconds (an hour).
for _ in $(seq 1 3900); do
	if kubectl -n "$ns" wait --for=condition=Complete job/snmpchaos-harness --timeout=1s >/dev/null 2>&1; then
		echo "kind-run: $scenario passed"
		exit 0
	fi
	if kubectl -n "$ns" wait --for=condition=Failed job/snmpchaos-harness --timeout=1s >/dev/null 2>&1; then
		echo "kind-run: $scenario failed"
		kubectl -n "$ns" get pods,networkchaos,podchaos -o wide || true
		exit 1
	fi
	sleep 1
done
echo "kind-run: $scenario did not finish"
exit 1
