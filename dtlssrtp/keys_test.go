package dtlssrtp

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// dtlsSRTPLabel is the exporter label of DTLS-SRTP (RFC 5764 section 4.2), which pion/dtls's
// own exporter is asked for here.
const dtlsSRTPLabel = "EXTRACTOR-dtls_srtp"

// shake runs a DTLS handshake between two loopback sockets, the server keyed through
// capture, and returns both ends.
func shake(t *testing.T, capture *Capture, suite dtls.CipherSuiteID,
	profile dtls.SRTPProtectionProfile, ems dtls.ExtendedMasterSecretType) (client, server *dtls.Conn) {
	t.Helper()
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	cu, su := listen(), listen()
	type result struct {
		c   *dtls.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := dtls.ServerWithOptions(su, cu.LocalAddr(),
			dtls.WithCertificates(cert), dtls.WithCipherSuites(suite),
			dtls.WithSRTPProtectionProfiles(profile), dtls.WithExtendedMasterSecret(ems),
			dtls.WithKeyLogWriter(capture), dtls.WithServerHelloMessageHook(capture.ServerHello))
		if err == nil {
			err = s.Handshake()
		}
		done <- result{s, err}
	}()
	c, err := dtls.ClientWithOptions(cu, su.LocalAddr(), dtls.WithCertificates(cert),
		dtls.WithInsecureSkipVerify(true), dtls.WithCipherSuites(suite),
		dtls.WithSRTPProtectionProfiles(profile), dtls.WithExtendedMasterSecret(ems))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Handshake(); err != nil {
		t.Fatal("client handshake:", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal("server handshake:", r.err)
	}
	t.Cleanup(func() { _ = c.Close(); _ = r.c.Close() })
	return c, r.c
}

// TestCaptureMatchesExporter derives the keys from what the key log and the ServerHello hook
// saw, and wants pion/dtls's own exporter's material on both ends; then a packet encrypted
// with the local context must decrypt with the client's.
func TestCaptureMatchesExporter(t *testing.T) {
	cases := []struct {
		name    string
		suite   dtls.CipherSuiteID
		profile dtls.SRTPProtectionProfile
		srtp    srtp.ProtectionProfile
		ems     dtls.ExtendedMasterSecretType
	}{
		{"gcm128-sha256", dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AEAD_AES_128_GCM,
			srtp.ProtectionProfileAeadAes128Gcm, dtls.RequestExtendedMasterSecret},
		{"cm80-sha256-no-ems", dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AES128_CM_HMAC_SHA1_80,
			srtp.ProtectionProfileAes128CmHmacSha1_80, dtls.DisableExtendedMasterSecret},
		{"gcm256-sha384", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.SRTP_AEAD_AES_256_GCM,
			srtp.ProtectionProfileAeadAes256Gcm, dtls.RequireExtendedMasterSecret},
		{"gcm128-chacha", dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, dtls.SRTP_AEAD_AES_128_GCM,
			srtp.ProtectionProfileAeadAes128Gcm, dtls.RequestExtendedMasterSecret},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			capture := &Capture{}
			client, server := shake(t, capture, tc.suite, tc.profile, tc.ems)
			k, err := capture.Keys()
			if err != nil {
				t.Fatal(err)
			}
			if k.Profile != tc.srtp {
				t.Fatalf("profile %v, want %v", k.Profile, tc.srtp)
			}
			keyLen, _ := k.Profile.KeyLen()
			saltLen, _ := k.Profile.SaltLen()
			for _, end := range []*dtls.Conn{client, server} {
				st, ok := end.ConnectionState()
				if !ok {
					t.Fatal("no connection state")
				}
				m, err := st.ExportKeyingMaterial(dtlsSRTPLabel, nil, 2*(keyLen+saltLen))
				if err != nil {
					t.Fatal(err)
				}
				want := append(append(append(append([]byte{}, k.RemoteKey...), k.LocalKey...), k.RemoteSalt...), k.LocalSalt...)
				if !bytes.Equal(m, want) {
					t.Fatalf("keys\n got %x\nwant %x (pion/dtls's exporter)", want, m)
				}
			}
			// What the server encrypts, the client (its remote: the server's key) decrypts.
			st, _ := client.ConnectionState()
			m, _ := st.ExportKeyingMaterial(dtlsSRTPLabel, nil, 2*(keyLen+saltLen))
			dec, err := srtp.CreateContext(m[keyLen:2*keyLen], m[2*keyLen+saltLen:], k.Profile)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := k.Local()
			if err != nil {
				t.Fatal(err)
			}
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 9,
				SSRC: 0x1234}, Payload: []byte("media payload")}
			raw, _ := pkt.Marshal()
			sealed, err := enc.EncryptRTP(nil, raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			opened, err := dec.DecryptRTP(nil, sealed, nil)
			if err != nil || !bytes.Equal(opened, raw) {
				t.Fatalf("decrypt: %v, %x want %x", err, opened, raw)
			}
		})
	}
}

// TestCaptureRefuses wants the errors of a capture that saw no ServerHello, no or two master
// secrets, or an unsupported profile.
func TestCaptureRefuses(t *testing.T) {
	c := &Capture{}
	if _, err := c.Keys(); !errors.Is(err, ErrNotServer) {
		t.Fatalf("no ServerHello: %v", err)
	}
	_, server := shake(t, c, dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AES128_CM_HMAC_SHA1_32,
		dtls.RequestExtendedMasterSecret)
	_ = server
	if _, err := c.Keys(); !errors.Is(err, ErrProfile) {
		t.Fatalf("HMAC_SHA1_32: %v", err)
	}
	// A line in pieces is read whole; a second handshake's secret makes the log ambiguous.
	_, _ = c.Write([]byte("CLIENT_RAN"))
	_, _ = c.Write([]byte("DOM 00ff 0102\nother line\n"))
	if _, err := c.Keys(); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("two secrets: %v", err)
	}
	none := &Capture{} // a line whose secret is not hex is not a secret
	_, _ = none.Write([]byte("CLIENT_RANDOM 00 zz\n"))
	none.serverRandom = make([]byte, 32)
	if _, err := none.Keys(); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("no secret: %v", err)
	}
}
