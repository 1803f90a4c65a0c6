package lab

import (
	"net"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestEvaluateGatewayEgress(t *testing.T) {
	gateway := net.ParseIP("10.244.61.1")
	verifier := map[string]string{"app.kubernetes.io/name": "aksbackup-verifier"}
	egress := []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	policy := func(name string, sel map[string]string, types []networkingv1.PolicyType, rules ...networkingv1.NetworkPolicyEgressRule) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: sel}, PolicyTypes: types, Egress: rules}}
	}
	to := func(cidr string, except ...string) []networkingv1.NetworkPolicyPeer {
		return []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}}
	}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(proto *corev1.Protocol, p intstr.IntOrString, end ...int32) networkingv1.NetworkPolicyPort {
		np := networkingv1.NetworkPolicyPort{Protocol: proto, Port: &p}
		if len(end) > 0 {
			np.EndPort = &end[0]
		}
		return np
	}
	cases := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		want     GatewayEgress
	}{
		{name: "no policy"},
		{name: "deny all egress, empty selector", policies: []networkingv1.NetworkPolicy{policy("deny", nil, egress)},
			want: GatewayEgress{Restricted: true, Policies: []string{"deny"}}},
		{name: "selector that does not match", policies: []networkingv1.NetworkPolicy{policy("deny", map[string]string{"app": "other"}, egress)}},
		{name: "ingress-only policy", policies: []networkingv1.NetworkPolicy{policy("ingress", nil, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress})}},
		{name: "rule with empty to admits everything", policies: []networkingv1.NetworkPolicy{
			policy("deny", nil, egress), policy("allow", verifier, egress, networkingv1.NetworkPolicyEgressRule{})}},
		{name: "ipBlock holding the gateway", policies: []networkingv1.NetworkPolicy{
			policy("allow", nil, egress, networkingv1.NetworkPolicyEgressRule{To: to("10.244.0.0/16")})}},
		{name: "ipBlock with the gateway in except", policies: []networkingv1.NetworkPolicy{
			policy("allow", nil, egress, networkingv1.NetworkPolicyEgressRule{To: to("10.244.0.0/16", "10.244.61.0/24")})},
			want: GatewayEgress{Restricted: true, Policies: []string{"allow"}}},
		{name: "ipBlock elsewhere", policies: []networkingv1.NetworkPolicy{
			policy("allow", nil, egress, networkingv1.NetworkPolicyEgressRule{To: to("192.168.0.0/16")})},
			want: GatewayEgress{Restricted: true, Policies: []string{"allow"}}},
		{name: "pod selector peer never admits the host", policies: []networkingv1.NetworkPolicy{
			policy("allow", nil, egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}})},
			want: GatewayEgress{Restricted: true, Policies: []string{"allow"}}},
		{name: "ports admit only those TCP ports", policies: []networkingv1.NetworkPolicy{
			policy("dns-and-https", nil, egress, networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{
				port(&udp, intstr.FromInt32(53)), port(&tcp, intstr.FromInt32(443)), port(nil, intstr.FromInt32(8000), 8080), port(&tcp, intstr.FromString("https"))}})},
			want: GatewayEgress{Restricted: true, TCPPorts: []string{"443", "8000:8080"}, Policies: []string{"dns-and-https"}}},
		{name: "a port rule and an open rule", policies: []networkingv1.NetworkPolicy{
			policy("a", nil, egress, networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{port(&tcp, intstr.FromInt32(443))}}),
			policy("b", nil, egress, networkingv1.NetworkPolicyEgressRule{To: to("10.244.61.1/32")})}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := EvaluateGatewayEgress(c.policies, verifier, gateway)
			if got.Restricted != c.want.Restricted || !reflect.DeepEqual(got.TCPPorts, c.want.TCPPorts) || (c.want.Restricted && !reflect.DeepEqual(got.Policies, c.want.Policies)) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestEgressRules(t *testing.T) {
	if r := egressRules("10.244.61.5", GatewayEgress{}, "10.244.61.1"); r != nil {
		t.Errorf("an unrestricted pod got rules: %v", r)
	}
	got := egressRules("10.244.61.5", GatewayEgress{Restricted: true, TCPPorts: []string{"443"}, Policies: []string{"deny"}}, "10.244.61.1")
	want := [][]string{
		{"-s", "10.244.61.5", "-d", "10.244.61.1", "-p", "tcp", "--dport", "443", "-j", "RETURN"},
		{"-s", "10.244.61.5", "-d", "10.244.61.1", "-m", "comment", "--comment", "NetworkPolicy deny", "-j", "DROP"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
}
