package notify

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestPublicAddr: webhooks go to global unicast addresses only: not to the special ranges
// netip's predicates leave out, among them shared address space, where cloud metadata
// services answer (100.100.100.200), and IPv6 prefixes that translate to IPv4.
func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"114.114.114.114", true},
		{"2400:3200::1", true},
		{"127.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"10.0.0.1", false},
		{"169.254.169.254", false},
		{"100.100.100.200", false},
		{"100.64.0.1", false},
		{"198.18.0.1", false},
		{"0.1.2.3", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		{"0.0.0.0", false},
		{"::", false},
		{"::1", false},
		{"fc00::1", false},
		{"fe80::1", false},
		{"64:ff9b::a9fe:a9fe", false},
		{"2002:a9fe:a9fe::1", false},
		{"2001:0:4136:e378::1", false},
	} {
		if got := publicAddr(netip.MustParseAddr(tc.addr)); got != tc.public {
			t.Errorf("publicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
}

// TestDescribeHidesURLSecrets: a failed delivery's text, kept and logged, leaves out the
// URL's query and user information, where receivers put their keys.
func TestDescribeHidesURLSecrets(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "https://user:pass@hooks.example/send?access_token=TOPSECRET", Err: errors.New("connection refused")}
	got := describe(err)
	if strings.Contains(got, "TOPSECRET") || strings.Contains(got, "pass") || !strings.Contains(got, "hooks.example/send") {
		t.Fatalf("describe = %q", got)
	}
}
