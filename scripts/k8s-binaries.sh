#!/usr/bin/env bash
# Builds, once, the Kubernetes pieces the pods-mode tests run against, into a
# cache outside the repository:
#
#   $CACHE/k8s/v$K8S_VERSION/bin/kube-apiserver   built from k8s.io/kubernetes
#   $CACHE/k8s/v$K8S_VERSION/bin/etcd             linked from Debian's etcd-server
#   $CACHE/k8s/v$K8S_VERSION/bin/{kubelet,kube-scheduler}  from k8s.io/kubernetes too
#   $CACHE/k8s/v$K8S_VERSION/bin/pause            gcc -static, kubernetes' pause.c
#   $CACHE/tools/bin/{controller-gen,actionlint,kubeconform}
#   $CACHE/k8s/crds/chaos-mesh-<api version>/     Chaos Mesh CRDs (controller-gen)
#
# CACHE is ${XDG_CACHE_HOME:-$HOME/.cache}/snmpchaos. Every step is skipped
# when its output is already there, so running it again costs nothing.
# kube-apiserver takes about 15 minutes and 1.8 GB of memory on 2 idle cores.
#
# Usage: scripts/k8s-binaries.sh [all|apiserver|etcd|tools|crds|node|kubelet|scheduler|pause|env]
#   node  installs containerd, runc, the CNI plugins and iptables (Debian,
#         when root) and builds kubelet, kube-scheduler and pause.
#   env  prints KUBEBUILDER_ASSETS=... and the tool paths, building nothing.
#
# kube-apiserver is not published as a Go module binary: k8s.io/kubernetes
# pins its staging modules (k8s.io/api, ...) to v0.0.0 with replace lines
# pointing into its own tree, so `go install` cannot build it. A throwaway
# wrapper module in a temporary directory requires k8s.io/kubernetes and
# replaces each staging module with its published release instead.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.35.4}
CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.20.0}
ACTIONLINT_VERSION=${ACTIONLINT_VERSION:-v1.7.12}
KUBECONFORM_VERSION=${KUBECONFORM_VERSION:-v0.8.0}
GO=${GO:-go}

CACHE=${SNMPCHAOS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snmpchaos}
K8S_DIR=$CACHE/k8s/v$K8S_VERSION
ASSETS=$K8S_DIR/bin
TOOLS=$CACHE/tools/bin
REPO=$(cd "$(dirname "$0")/.." && pwd)

log() { echo "k8s-binaries: $*" >&2; }

# The staging modules of k8s.io/kubernetes v1.35 (its go.mod's replace lines).
STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime
client-go cloud-provider cluster-bootstrap code-generator component-base
component-helpers controller-manager cri-api cri-client csi-translation-lib
dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
mount-utils pod-security-admission sample-apiserver sample-cli-plugin
sample-controller"

# wrapper_build BINARY: builds k8s.io/kubernetes/cmd/BINARY into $ASSETS
# through the throwaway wrapper module (see the header).
wrapper_build() {
	local bin=$1
	if [ -x "$ASSETS/$bin" ]; then
		log "$bin v$K8S_VERSION cached at $ASSETS"
		return
	fi
	mkdir -p "$ASSETS"
	local tmp
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" RETURN
	local minor=${K8S_VERSION#*.}
	{
		echo "module snmpchaos.local/k8swrap"
		echo
		echo "go 1.25"
		echo
		echo "require k8s.io/kubernetes v$K8S_VERSION"
		echo
		for m in $STAGING; do
			echo "replace k8s.io/$m => k8s.io/$m v0.$minor"
		done
	} >"$tmp/go.mod"
	printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/%s"\n' "$bin" >"$tmp/tools.go"
	log "building $bin v$K8S_VERSION (kube-apiserver about 15 minutes on 2 idle cores, kubelet about as long again)"
	(
		cd "$tmp"
		GOFLAGS=-mod=mod "$GO" mod tidy -e >/dev/null 2>&1 || true
		GOFLAGS=-mod=mod CGO_ENABLED=0 nice -n 10 "$GO" build -trimpath \
			-ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION" \
			-o "$ASSETS/$bin.tmp" "k8s.io/kubernetes/cmd/$bin"
	)
	mv "$ASSETS/$bin.tmp" "$ASSETS/$bin"
	log "$bin built: $ASSETS/$bin"
}

build_apiserver() { wrapper_build kube-apiserver; }

build_kubelet() { wrapper_build kubelet; }

build_scheduler() { wrapper_build kube-scheduler; }

# The pod sandbox's pause binary, from the kubernetes module's
# build/pause/linux/pause.c, static (as its Makefile builds it); the node
# test puts it in an image FROM scratch of its own.
build_pause() {
	if [ -x "$ASSETS/pause" ]; then
		return
	fi
	command -v gcc >/dev/null || { log "gcc missing: apt-get install gcc libc6-dev"; return 1; }
	local dir
	dir=$(cd / && GOFLAGS= "$GO" mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	mkdir -p "$ASSETS"
	log "building pause from $dir/build/pause/linux/pause.c"
	gcc -Os -Wall -Werror -static -DVERSION="v3.10.1-snmpchaos" -o "$ASSETS/pause.tmp" "$dir/build/pause/linux/pause.c"
	strip "$ASSETS/pause.tmp"
	mv "$ASSETS/pause.tmp" "$ASSETS/pause"
}

# What a node needs besides kubelet (Debian's packages, when root):
# containerd and runc, the CNI plugins (bridge, host-local, loopback),
# iptables (kubelet adds its chains with it).
install_node_packages() {
	local missing=()
	command -v containerd >/dev/null || missing+=(containerd)
	command -v runc >/dev/null || missing+=(runc)
	[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
	command -v iptables >/dev/null || missing+=(iptables)
	if [ ${#missing[@]} = 0 ]; then
		return
	fi
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
		# The package's service is not wanted: the node test starts its own containerd.
		if command -v systemctl >/dev/null && systemctl is-active -q containerd 2>/dev/null; then
			systemctl stop containerd || true
		fi
	else
		log "missing ${missing[*]}: the node test skips (install them as root)"
	fi
}

install_etcd() {
	if [ -x "$ASSETS/etcd" ]; then
		return
	fi
	mkdir -p "$ASSETS"
	if ! [ -x /usr/bin/etcd ]; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			log "installing Debian's etcd-server"
			# The package's service is not wanted: the tests start their own etcd.
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends etcd-server >/dev/null ||
				{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends etcd-server >/dev/null; }
			if command -v systemctl >/dev/null && systemctl is-active -q etcd 2>/dev/null; then
				systemctl stop etcd || true
			fi
		else
			log "etcd missing: install Debian's etcd-server (needs root)"
			return 1
		fi
	fi
	ln -sf /usr/bin/etcd "$ASSETS/etcd"
}

go_tool() { # name module@version
	local name=$1 pkg=$2
	if [ -x "$TOOLS/$name" ]; then
		return
	fi
	mkdir -p "$TOOLS"
	log "go install $pkg"
	GOBIN=$TOOLS GOFLAGS= nice -n 10 "$GO" install "$pkg"
}

build_tools() {
	go_tool controller-gen "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION"
	go_tool actionlint "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
	go_tool kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
}

# The Chaos Mesh API version this module requires, as go.mod pins it.
chaos_version() {
	(cd "$REPO" && "$GO" list -m -f '{{.Version}}' github.com/chaos-mesh/chaos-mesh/api)
}

crd_dir() { echo "$CACHE/k8s/crds/chaos-mesh-$(chaos_version)"; }

build_crds() {
	go_tool controller-gen "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION"
	local dir
	dir=$(crd_dir)
	if [ -f "$dir/.done" ]; then
		return
	fi
	mkdir -p "$dir"
	log "generating Chaos Mesh CRDs into $dir"
	# controller-gen resolves the package through this module's go.mod, so
	# the CRDs match the API version the code builds objects with.
	(cd "$REPO" && nice -n 10 "$TOOLS/controller-gen" crd:ignoreUnexportedFields=true,crdVersions=v1 \
		paths=github.com/chaos-mesh/chaos-mesh/api/v1alpha1 output:crd:artifacts:config="$dir")
	touch "$dir/.done"
}

print_env() {
	echo "KUBEBUILDER_ASSETS=$ASSETS"
	echo "SNMPCHAOS_TOOLS=$TOOLS"
	echo "SNMPCHAOS_CRDS=$(crd_dir)"
}

case "${1:-all}" in
all)
	install_etcd
	build_tools
	build_crds
	build_apiserver
	install_node_packages
	build_kubelet
	build_scheduler
	build_pause
	;;
node)
	install_node_packages
	build_kubelet
	build_scheduler
	build_pause
	;;
apiserver) build_apiserver ;;
kubelet) build_kubelet ;;
scheduler) build_scheduler ;;
pause) build_pause ;;
etcd) install_etcd ;;
tools) build_tools ;;
crds) build_crds ;;
env) print_env ;;
*)
	echo "usage: $0 [all|apiserver|etcd|tools|crds|node|kubelet|scheduler|pause|env]" >&2
	exit 2
	;;
esac
