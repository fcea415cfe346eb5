package signaling

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		code      string // "" for OK
		field     string
	}{
		{"OK/join", `{"v":1,"type":"join","token":"abc"}`, "", ""},
		{"OK/resume", `{"v":1,"type":"join","resume":"abc","id":"1"}`, "", ""},
		{"OK/offer", `{"v":1,"type":"offer","pc":"pub","sdp":"v=0","sources":{"t1":"screen"}}`, "", ""},
		{"OK/answer", `{"v":1,"type":"answer","pc":"sub","sdp":"v=0"}`, "", ""},
		{"OK/candidate", `{"v":1,"type":"candidate","pc":"sub","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`, "", ""},
		{"OK/moderate", `{"v":1,"type":"moderate","id":"7","action":"admit","target":"p-1"}`, "", ""},
		{"OK/start", `{"v":1,"type":"moderate","action":"start"}`, "", ""},
		{"OK/mark", `{"v":1,"type":"mark","target":"p-1","item":"pledge_read"}`, "", ""},
		{"OK/leave", `{"v":1,"type":"leave"}`, "", ""},
		{"OK/audio only", `{"v":1,"type":"receive","id":"9","video":false}`, "", ""},
		{"OK/video back", `{"v":1,"type":"receive","video":true}`, "", ""},
		{"OK/unknown field", `{"v":1,"type":"leave","later":true}`, "", ""},
		{"ErrTooLarge", `{"v":1,"type":"leave","x":"` + strings.Repeat("a", MaxMessage) + `"}`, CodeTooLarge, ""},
		{"ErrNotJSON", `hello`, CodeMalformed, ""},
		{"ErrArray", `[1]`, CodeMalformed, ""},
		{"ErrNull", `null`, CodeMalformed, ""},
		{"ErrEmpty", ``, CodeMalformed, ""},
		{"ErrTruncated", `{"v":1,"type":"leave"`, CodeMalformed, ""},
		{"ErrNotUTF8", "{\"v\":1,\"type\":\"leave\",\"x\":\"\xff\"}", CodeMalformed, ""},
		{"ErrNoVersion", `{"type":"leave"}`, CodeMissingField, "v"},
		{"ErrVersion", `{"v":2,"type":"leave"}`, CodeVersion, "v"},
		{"ErrVersionType", `{"v":"1","type":"leave"}`, CodeMalformed, ""},
		{"ErrNoType", `{"v":1}`, CodeMissingField, "type"},
		{"ErrUnknownType", `{"v":1,"type":"joined"}`, CodeUnknownType, "type"},
		{"ErrFieldType", `{"v":1,"type":"join","token":1}`, CodeMalformed, ""},
		{"ErrLongID", `{"v":1,"type":"leave","id":"` + strings.Repeat("i", 65) + `"}`, CodeBadField, "id"},
		{"ErrJoinNothing", `{"v":1,"type":"join"}`, CodeMissingField, "token"},
		{"ErrJoinBoth", `{"v":1,"type":"join","token":"a","resume":"b"}`, CodeBadField, "resume"},
		{"ErrOfferSub", `{"v":1,"type":"offer","pc":"sub","sdp":"v=0"}`, CodeBadField, "pc"},
		{"ErrOfferNoPC", `{"v":1,"type":"offer","sdp":"v=0"}`, CodeMissingField, "pc"},
		{"ErrOfferNoSDP", `{"v":1,"type":"offer","pc":"pub"}`, CodeMissingField, "sdp"},
		{"ErrBadSource", `{"v":1,"type":"offer","pc":"pub","sdp":"v=0","sources":{"t":"tv"}}`, CodeBadField, "sources"},
		{"ErrAnswerPub", `{"v":1,"type":"answer","pc":"pub","sdp":"v=0"}`, CodeBadField, "pc"},
		{"ErrCandidateNoPC", `{"v":1,"type":"candidate","candidate":{"candidate":""}}`, CodeMissingField, "pc"},
		{"ErrCandidatePC", `{"v":1,"type":"candidate","pc":"x","candidate":{"candidate":""}}`, CodeBadField, "pc"},
		{"ErrCandidateNone", `{"v":1,"type":"candidate","pc":"pub"}`, CodeMissingField, "candidate"},
		{"ErrNoAction", `{"v":1,"type":"moderate"}`, CodeMissingField, "action"},
		{"ErrAction", `{"v":1,"type":"moderate","action":"shout"}`, CodeBadField, "action"},
		{"ErrNoTarget", `{"v":1,"type":"moderate","action":"mute"}`, CodeMissingField, "target"},
		{"ErrNoExhibit", `{"v":1,"type":"moderate","action":"show_exhibit"}`, CodeMissingField, "exhibit"},
		{"ErrMarkNoTarget", `{"v":1,"type":"mark","item":"pledge_read"}`, CodeMissingField, "target"},
		{"ErrMarkItem", `{"v":1,"type":"mark","target":"p","item":"sworn"}`, CodeBadField, "item"},
		{"ErrReceiveNoVideo", `{"v":1,"type":"receive"}`, CodeMissingField, "video"},
		{"ErrReceiveVideoType", `{"v":1,"type":"receive","video":"no"}`, CodeMalformed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.msg))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if m.V != Version || m.Type == "" {
					t.Fatalf("Parse = %+v", m)
				}
				return
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %v, want a *ProtocolError", err)
			}
			if pe.Code != tc.code || pe.Field != tc.field {
				t.Fatalf("Parse error %s (field %q), want %s (field %q)", pe.Code, pe.Field, tc.code, tc.field)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that it refuses with a ProtocolError of a known
// code, and that what it accepts survives a round trip unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"join","token":"abc"}`,
		`{"v":1,"type":"offer","pc":"pub","sdp":"v=0","sources":{"t1":"camera"}}`,
		`{"v":1,"type":"candidate","pc":"sub","candidate":{"candidate":"c","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"v":1,"type":"moderate","id":"7","action":"show_exhibit","exhibit":"t-1"}`,
		`{"v":1,"type":"mark","target":"p-1","item":"identity_verified"}`,
		`{"v":2}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	codes := map[string]bool{CodeMalformed: true, CodeTooLarge: true, CodeVersion: true,
		CodeUnknownType: true, CodeMissingField: true, CodeBadField: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || !codes[pe.Code] {
				t.Fatalf("Parse(%q) error %v", data, err)
			}
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(%q) accepted, but not its re-encoding %s: %v", data, b, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed %+v to %+v", m, again)
		}
	})
}
