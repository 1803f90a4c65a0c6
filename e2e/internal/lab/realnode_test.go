package lab

import (
	"net"
	"testing"
)

func TestParseRealNodeMode(t *testing.T) {
	tests := []struct {
		in      string
		want    RealNodeMode
		wantErr bool
	}{
		{"", RealNodeAuto, false}, {"auto", RealNodeAuto, false}, {"1", RealNodeOn, false}, {"TRUE", RealNodeOn, false},
		{"on", RealNodeOn, false}, {"0", RealNodeOff, false}, {"off", RealNodeOff, false}, {"false", RealNodeOff, false},
		{"sometimes", "", true},
	}
	for _, tt := range tests {
		got, err := ParseRealNodeMode(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseRealNodeMode(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestSubnetInUse(t *testing.T) {
	mustNet := func(s string) *net.IPNet {
		ip, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		return n
	}
	_, candidate, _ := net.ParseCIDR("10.244.61.0/24")
	routes := "default via 192.0.2.1 dev eth0\n192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2\nlocal 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1\n"
	tests := []struct {
		name   string
		addrs  []net.Addr
		routes string
		want   bool
	}{
		{"free", []net.Addr{mustNet("192.0.2.2/24"), mustNet("127.0.0.1/8")}, routes, false},
		{"an address inside", []net.Addr{mustNet("10.244.61.7/24")}, "", true},
		{"a wider address", []net.Addr{mustNet("10.0.0.1/8")}, "", true},
		{"a route inside", nil, "10.244.61.128/25 via 192.0.2.1 dev eth0\n", true},
		{"a wider route", nil, "10.244.0.0/16 dev cni0\n", true},
		{"a local host route", nil, "local 10.244.61.1 dev aksblab0 table local proto kernel scope host src 10.244.61.1\n", true},
		{"the default route does not count", nil, "default via 10.244.61.1 dev eth0\n", false},
	}
	for _, tt := range tests {
		if got := subnetInUse(candidate, tt.addrs, tt.routes); got != tt.want {
			t.Errorf("%s: subnetInUse = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/a/b`: "/a/b", `/lab\040dir/x`: "/lab dir/x", `/tab\011x`: "/tab\tx", `/odd\04`: `/odd\04`} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}
