// Package pods runs a scenario's sites as simagent pods in Kubernetes:
// one bare Pod per site (the harness's role may create pods and nothing
// else), its agents on consecutive ports of the pod's address, its control
// API on the pod's address with a token made for the run, ready when the
// control API says its agents answer. Start creates them and waits until
// they are ready; Delete and Cleanup remove them.
package pods

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/snmpchaos/snmpchaos/k8s/chaos"
	"github.com/snmpchaos/snmpchaos/scenarios"
)

// Defaults of a site pod.
const (
	// Container is the simagent container's name (PodChaos kills it).
	Container = "simagent"
	// FirstPort is the first agent's UDP port in the pod.
	FirstPort = 16100
	// ControlPort is the control API's port in the pod.
	ControlPort = 8080
	// DefaultImage is the image the kind workflow builds and loads.
	DefaultImage = "snmpchaos/simagent:dev"
	// LabelApp marks simagent pods (the k8s/ Service selects them).
	LabelApp = "app.kubernetes.io/name"
	// App is LabelApp's value on simagent pods.
	App = "simagent"
	// tokenEnv carries the control API's token (simagent reads it).
	tokenEnv = "SIMAGENT_CONTROL_TOKEN"
	// Redacted replaces the token where a pod is printed.
	Redacted = "<redacted>"
)

// Spec is what a run's site pods share.
type Spec struct {
	// Run names the run (chaos.Run.ID) and Namespace holds its pods.
	Run       string
	Namespace string
	// Image is simagent's image (default DefaultImage).
	Image string
	// Token is the control API's bearer token, in each pod's environment.
	Token string
	// Seed seeds site i's agents with Seed+i.
	Seed uint64
}

// SiteLabels are the pod labels of site i of run: what chaos.Run.Sites
// selects.
func SiteLabels(run string, site int) map[string]string {
	return map[string]string{
		LabelApp: App, chaos.LabelManagedBy: chaos.ManagedBy,
		chaos.LabelRun: run, chaos.LabelSite: strconv.Itoa(site),
	}
}

// PodName is site i's pod name.
func PodName(run string, site int) string { return run + "-site" + strconv.Itoa(site) }

// Build returns one pod per site of sc (a scenario with sites, in k8s
// mode). Agent labels (site=<i>, the site's own, fleet.labels ranges)
// become simagent --label flags, as netns mode gives them to each site.
func (s Spec) Build(sc *scenarios.Scenario) ([]*corev1.Pod, error) {
	if !sc.HasSites() {
		return nil, fmt.Errorf("pods: scenario %s: mode %s has no sites", sc.Name, sc.Mode)
	}
	fl := sc.Fleet
	if fl.Data != "" {
		return nil, fmt.Errorf("pods: scenario %s: fleet.data %q: k8s mode serves profiles (fleet.profile); a data file is not in the image", sc.Name, fl.Data)
	}
	if len(fl.Kinds) > 0 {
		return nil, fmt.Errorf("pods: scenario %s: fleet.kinds: not in k8s mode yet (a site pod serves one profile, fleet.profile)", sc.Name)
	}
	if len(fl.V3Users) > 0 {
		return nil, fmt.Errorf("pods: scenario %s: fleet.v3Users: not in k8s mode yet (the users' passphrases would be in the pod spec)", sc.Name)
	}
	image := s.Image
	if image == "" {
		image = DefaultImage
	}
	counts := fl.SiteAgents()
	var out []*corev1.Pod
	first := 0
	for i, n := range counts {
		args := []string{
			"--agents", strconv.Itoa(n), "--by-port", "--listen", "$(POD_IP):" + strconv.Itoa(FirstPort), "--listen-any",
			"--profile", fl.Profile, "--community", fl.Community, "--seed", strconv.FormatUint(s.Seed+uint64(i), 10),
			"--control", "$(POD_IP):" + strconv.Itoa(ControlPort), "--log-level", "warn",
		}
		if fl.MaxMsgSize != 0 {
			args = append(args, "--max-msg-size", strconv.Itoa(fl.MaxMsgSize))
		}
		for _, l := range siteLabels(fl, i, first, n) {
			args = append(args, "--label", l)
		}
		first += n
		out = append(out, s.pod(i, n, image, args))
	}
	return out, nil
}

func (s Spec) pod(site, agents int, image string, args []string) *corev1.Pod {
	no, yes := false, true
	uid := int64(65532)
	mem := resource.MustParse(strconv.Itoa(64+agents/16) + "Mi") // about 60 KiB an agent at most
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: PodName(s.Run, site), Namespace: s.Namespace, Labels: SiteLabels(s.Run, site),
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyAlways,
			AutomountServiceAccountToken: &no,
			EnableServiceLinks:           &no,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: Container, Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
				Command: []string{"/simagent"}, Args: args,
				Env: []corev1.EnvVar{
					{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
					{Name: tokenEnv, Value: s.Token},
				},
				Ports: []corev1.ContainerPort{
					{Name: "control", ContainerPort: ControlPort, Protocol: corev1.ProtocolTCP},
					{Name: "snmp", ContainerPort: FirstPort, Protocol: corev1.ProtocolUDP},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/v1/readyz", Port: intstr.FromString("control")}},
					PeriodSeconds: 2, FailureThreshold: 3,
				},
				LivenessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/v1/healthz", Port: intstr.FromString("control")}},
					PeriodSeconds: 10, FailureThreshold: 6,
				},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: mem},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: *resource.NewQuantity(mem.Value()*4, resource.BinarySI)},
				},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}

// siteLabels are simagent --label values for site i's agents: site=<i>
// and the site's own labels on all of them, fleet.labels ranges moved to
// the site's local indexes (as netns mode labels them).
func siteLabels(fl scenarios.Fleet, i, first, n int) []string {
	own := []string{"site=" + strconv.Itoa(i)}
	if i < len(fl.Sites) {
		for _, k := range sortedKeys(fl.Sites[i].Labels) {
			own = append(own, k+"="+fl.Sites[i].Labels[k])
		}
	}
	out := []string{fmt.Sprintf("0-%d:%s", n-1, strings.Join(own, ","))}
	for _, l := range fl.Labels {
		from, to := max(l.From, first), min(l.To, first+n-1)
		if from > to {
			continue
		}
		var kv []string
		for _, k := range sortedKeys(l.Labels) {
			kv = append(kv, k+"="+l.Labels[k])
		}
		out = append(out, fmt.Sprintf("%d-%d:%s", from-first, to-first, strings.Join(kv, ",")))
	}
	return out
}

// Redact returns a copy of p with the control token replaced by Redacted,
// for printing.
func Redact(p *corev1.Pod) *corev1.Pod {
	c := p.DeepCopy()
	for i := range c.Spec.Containers {
		for j, e := range c.Spec.Containers[i].Env {
			if e.Name == tokenEnv {
				c.Spec.Containers[i].Env[j].Value = Redacted
			}
		}
	}
	return c
}
