// Package dtlssrtp takes the SRTP keys of a DTLS-SRTP association (RFC 5764) that pion's
// DTLS transport negotiates, so that the server can encrypt a connection's RTP itself.
//
// pion/webrtc keeps each connection's SRTP contexts to itself: its write path (interceptors,
// SRTP session, the DTLS/SRTP mux and ICE) costs about a quarter of the server's CPU per
// forwarded packet (docs/perf.md). What a connection's keys are made from reaches the
// application through two of pion's public settings: the key log (the TLS 1.2 "CLIENT_RANDOM"
// line: the client's random and the master secret) and the hook on the ServerHello the server
// sends (the server's random, the cipher suite, the SRTP protection profile chosen). From them
// Capture derives the keying material as the DTLS exporter does (RFC 5705 with the label of
// RFC 5764 section 4.2), which TestCaptureMatchesExporter checks against pion/dtls's own.
//
// A Capture serves one connection on which this side is the DTLS server: the server offers
// each subscriber's connection, and the client answers as DTLS client. On a connection where
// this side is the client the ServerHello is the peer's, so Keys reports ErrNotServer and the
// caller keeps pion's path.
package dtlssrtp

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"
)

// Errors of Keys.
var (
	// ErrNotServer means no ServerHello was sent on the connection: this side is not its
	// DTLS server, or the handshake has not reached it.
	ErrNotServer = errors.New("dtlssrtp: no ServerHello sent on this connection")
	// ErrNoSecret means the key log gave no master secret, or more than one handshake's.
	ErrNoSecret = errors.New("dtlssrtp: not one master secret logged for this connection")
	// ErrProfile means the ServerHello chose an SRTP protection profile this package does
	// not key, or none.
	ErrProfile = errors.New("dtlssrtp: unsupported SRTP protection profile")
)

// Capture collects what one DTLS association's SRTP keys are made from. Its Write is the
// connection's key log, its ServerHello the hook on the ServerHello sent; both are called by
// pion's handshake goroutine, Keys by anyone after the handshake.
type Capture struct {
	mu           sync.Mutex
	serverRandom []byte
	suite        uint16
	profile      extension.SRTPProtectionProfile
	secrets      map[string][]byte // hex client random → master secret
	line         []byte            // a key-log line not yet ended
}

// Write takes key-log lines ("CLIENT_RANDOM <client random> <master secret>", hex); other
// lines are ignored. It implements io.Writer and never fails.
func (c *Capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.line = append(c.line, p...)
	for {
		i := bytes.IndexByte(c.line, '\n')
		if i < 0 {
			break
		}
		f := bytes.Fields(c.line[:i])
		if len(f) == 3 && string(f[0]) == "CLIENT_RANDOM" {
			if secret, err := hex.DecodeString(string(f[2])); err == nil {
				if c.secrets == nil {
					c.secrets = map[string][]byte{}
				}
				c.secrets[string(bytes.ToLower(f[1]))] = secret
			}
		}
		c.line = c.line[i+1:]
	}
	if len(c.line) > 4096 { // not a key log
		c.line = c.line[:0]
	}
	return len(p), nil
}

// ServerHello notes the server random, cipher suite and SRTP profile of the ServerHello this
// side sends, and returns it unchanged. Use it with
// webrtc.SettingEngine.SetDTLSServerHelloMessageHook.
func (c *Capture) ServerHello(m handshake.MessageServerHello) handshake.Message {
	r := m.Random.MarshalFixed()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.serverRandom = r[:]
	c.suite = 0
	if m.CipherSuiteID != nil {
		c.suite = *m.CipherSuiteID
	}
	c.profile = 0
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) == 1 {
			c.profile = u.ProtectionProfiles[0]
		}
	}
	return &m
}

// Keys are the SRTP master keys and salts of both directions of a connection.
type Keys struct {
	Profile               srtp.ProtectionProfile
	LocalKey, LocalSalt   []byte // what this side (the DTLS server) encrypts with
	RemoteKey, RemoteSalt []byte // what the peer encrypts with
}

// Keys derives the SRTP keys of the connection from its ServerHello and the master secret
// its key log gave (one handshake, so one line). It fails with ErrNotServer, ErrNoSecret (none
// logged, or several) or ErrProfile.
func (c *Capture) Keys() (Keys, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.serverRandom == nil {
		return Keys{}, ErrNotServer
	}
	if len(c.secrets) != 1 {
		return Keys{}, ErrNoSecret
	}
	for client, secret := range c.secrets {
		cr, err := hex.DecodeString(client)
		if err != nil {
			return Keys{}, ErrNoSecret
		}
		return derive(secret, cr, c.serverRandom, c.suite, c.profile)
	}
	return Keys{}, ErrNoSecret
}

func derive(secret, clientRandom, serverRandom []byte, suite uint16,
	profile extension.SRTPProtectionProfile) (Keys, error) {
	var p srtp.ProtectionProfile
	switch profile {
	case extension.SRTP_AEAD_AES_128_GCM:
		p = srtp.ProtectionProfileAeadAes128Gcm
	case extension.SRTP_AES128_CM_HMAC_SHA1_80:
		p = srtp.ProtectionProfileAes128CmHmacSha1_80
	case extension.SRTP_AEAD_AES_256_GCM:
		p = srtp.ProtectionProfileAeadAes256Gcm
	default:
		return Keys{}, fmt.Errorf("%w: %#04x", ErrProfile, uint16(profile))
	}
	// pion's split of the exported material into both sides' keys and salts (RFC 5764
	// section 4.2), from this side's exporter; this side is the server.
	cfg := srtp.Config{Profile: p}
	if err := cfg.ExtractSessionKeysFromDTLS(exporter{secret, clientRandom, serverRandom, suite}, false); err != nil {
		return Keys{}, err
	}
	return Keys{Profile: p,
		LocalKey: cfg.Keys.LocalMasterKey, LocalSalt: cfg.Keys.LocalMasterSalt,
		RemoteKey: cfg.Keys.RemoteMasterKey, RemoteSalt: cfg.Keys.RemoteMasterSalt}, nil
}

// exporter is the TLS 1.2 keying material exporter (RFC 5705) of one handshake: the PRF of
// its master secret over the label and both randoms.
type exporter struct {
	secret, clientRandom, serverRandom []byte
	suite                              uint16
}

// ExportKeyingMaterial implements srtp.KeyingMaterialExporter (without a context, as
// DTLS-SRTP asks).
func (e exporter) ExportKeyingMaterial(label string, context []byte, n int) ([]byte, error) {
	if context != nil {
		return nil, errors.New("dtlssrtp: exporter context not supported")
	}
	seed := make([]byte, 0, len(label)+len(e.clientRandom)+len(e.serverRandom))
	seed = append(append(append(seed, label...), e.clientRandom...), e.serverRandom...)
	return prf.PHash(e.secret, seed, n, suiteHash(e.suite))
}

// suiteHash is the PRF hash of a TLS 1.2 cipher suite: SHA-384 for the *_SHA384 suites,
// SHA-256 for all others (RFC 5246 section 5, RFC 5289).
func suiteHash(id uint16) func() hash.Hash {
	switch dtls.CipherSuiteID(id) {
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return sha512.New384
	}
	return sha256.New
}

// Local returns a context that encrypts what this side sends.
func (k Keys) Local() (*srtp.Context, error) {
	return srtp.CreateContext(k.LocalKey, k.LocalSalt, k.Profile)
}

// Remote returns a context that decrypts what the peer sends, with opts (replay protection).
func (k Keys) Remote(opts ...srtp.ContextOption) (*srtp.Context, error) {
	return srtp.CreateContext(k.RemoteKey, k.RemoteSalt, k.Profile, opts...)
}
