package keyframe

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// TestKeyframe checks the keyframe test that layer switches wait for, on the payload shapes
// Chromium and hardware endpoints send.
func TestKeyframe(t *testing.T) {
	tests := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 key, no extension", webrtc.MimeTypeVP8, []byte{0x10, 0x00, 0x9d}, true},
		{"vp8 delta", webrtc.MimeTypeVP8, []byte{0x10, 0x01, 0x9d}, false},
		{"vp8 key, 15-bit picture ID, TL0PICIDX, TID", webrtc.MimeTypeVP8, []byte{0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x10}, true},
		{"vp8 delta, 7-bit picture ID", webrtc.MimeTypeVP8, []byte{0x90, 0x80, 0x05, 0x31}, false},
		{"vp8 continuation packet", webrtc.MimeTypeVP8, []byte{0x00, 0x00}, false},
		{"vp8 second partition", webrtc.MimeTypeVP8, []byte{0x11, 0x00}, false},
		{"vp8 truncated", webrtc.MimeTypeVP8, []byte{0x90, 0x80}, false},
		{"vp8 empty", webrtc.MimeTypeVP8, nil, false},
		{"vp8 key, 15-bit picture ID", webrtc.MimeTypeVP8, []byte{0x90, 0x80, 0x81, 0x02, 0x00}, true},
		{"vp8 delta, 7-bit picture ID, no TL0PICIDX", webrtc.MimeTypeVP8, []byte{0x90, 0x80, 0x05, 0x01}, false},
		{"vp8 descriptor only", webrtc.MimeTypeVP8, []byte{0x90}, false},
		{"h264 IDR", webrtc.MimeTypeH264, []byte{0x65, 0x88}, true},
		{"h264 non-IDR", webrtc.MimeTypeH264, []byte{0x41, 0x9a}, false},
		{"h264 STAP-A with SPS and PPS", webrtc.MimeTypeH264, []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"h264 STAP-A of SEI", webrtc.MimeTypeH264, []byte{0x78, 0x00, 0x02, 0x06, 0x05}, false},
		{"h264 STAP-A overrunning", webrtc.MimeTypeH264, []byte{0x78, 0x00, 0x09, 0x67}, false},
		{"h264 FU-A start of IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x85, 0x88}, true},
		{"h264 FU-A middle of IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x05, 0x88}, false},
	}
	for _, tc := range tests {
		var got bool
		switch tc.mime {
		case webrtc.MimeTypeVP8:
			got = VP8(tc.payload)
		case webrtc.MimeTypeH264:
			idr, sps := H264(tc.payload)
			got = idr || sps
		}
		if got != tc.want {
			t.Errorf("%s: starts a keyframe = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestH264 checks which payloads start an IDR slice and which carry an SPS, from which a
// receiver without the stream's parameter sets can decode.
func TestH264(t *testing.T) {
	tests := []struct {
		name     string
		payload  []byte
		idr, sps bool
	}{
		{"IDR", []byte{0x65, 0x88}, true, false},
		{"SPS", []byte{0x67, 0x42}, false, true},
		{"PPS", []byte{0x68, 0xce}, false, false},
		{"STAP-A of SPS and PPS", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, false, true},
		{"STAP-A of SPS, PPS and IDR", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x65, 0x88}, true, true},
		{"STAP-A overrunning after an SPS", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x09, 0x68}, false, false},
		{"FU-A start of IDR", []byte{0x7c, 0x85, 0x88}, true, false},
		{"FU-A end of IDR", []byte{0x7c, 0x45, 0x88}, false, false},
		{"empty", nil, false, false},
	}
	for _, tc := range tests {
		if idr, sps := H264(tc.payload); idr != tc.idr || sps != tc.sps {
			t.Errorf("%s: H264 = %v, %v; want %v, %v", tc.name, idr, sps, tc.idr, tc.sps)
		}
	}
}
