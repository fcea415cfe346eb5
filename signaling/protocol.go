package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"
)

// Version is the protocol version every message carries in "v".
const Version = 1

// MaxMessage is the largest message, in bytes, that the server reads as a message; a larger
// one gets an error with code too_large. Frames over HardMaxMessage close the connection.
const (
	MaxMessage     = 64 << 10
	HardMaxMessage = 256 << 10
)

// Message types. The client sends join, offer (pc pub), answer (pc sub), candidate, moderate,
// mark and leave; the server sends the rest, and offer (pc sub), answer (pc pub) and
// candidate. See docs/signaling.md.
const (
	TypeJoin         = "join"
	TypeOffer        = "offer"
	TypeAnswer       = "answer"
	TypeCandidate    = "candidate"
	TypeModerate     = "moderate"
	TypeMark         = "mark"
	TypeLeave        = "leave"
	TypeReceive      = "receive"
	TypeJoined       = "joined"
	TypeParticipants = "participants"
	TypeParticipant  = "participant"
	TypeLeft         = "left"
	TypeSpeaker      = "speaker"
	TypeHearing      = "hearing"
	TypeState        = "state"
	TypeError        = "error"
	TypeOK           = "ok"
)

// Peer connection names: pub is the one the client publishes on (it offers), sub the one it
// receives on (the server offers).
const (
	PCPub = "pub"
	PCSub = "sub"
)

// Moderation actions (the "action" of a moderate message).
const (
	ActionAdmit       = "admit"
	ActionToWaiting   = "to_waiting"
	ActionMute        = "mute"
	ActionUnmute      = "unmute"
	ActionRemove      = "remove"
	ActionGrantFloor  = "grant_floor"
	ActionRevokeFloor = "revoke_floor"
	ActionStart       = "start"
	ActionEnd         = "end"
	ActionShowExhibit = "show_exhibit"
	ActionStopExhibit = "stop_exhibit"
	ActionPause       = "pause_recording"  // with a reason (#29)
	ActionResume      = "resume_recording" //
)

// Checklist items a mark message records (#26, #27, #28).
const (
	ItemIdentityVerified = "identity_verified"
	ItemPledgeRead       = "pledge_read"
)

// Track sources a client declares in the sources of its pub offer.
const (
	SourceCamera     = "camera"
	SourceMicrophone = "microphone"
	SourceScreen     = "screen"
)

// Error codes of error messages. They are part of the protocol: clients match on them, so
// never rename one.
const (
	CodeMalformed    = "malformed"           // not a JSON object, or a field of the wrong type
	CodeTooLarge     = "too_large"           // over MaxMessage bytes
	CodeVersion      = "unsupported_version" // "v" is not 1
	CodeUnknownType  = "unknown_type"        // "type" is not one the client may send
	CodeMissingField = "missing_field"       // a field the type requires is absent or empty
	CodeBadField     = "bad_field"           // a field has a value the type does not allow
	CodeOutOfOrder   = "out_of_order"        // not allowed now (join twice, answer with no offer)
	CodeForbidden    = "forbidden"           // the role may not do this
	CodeNotFound     = "not_found"           // the target participant or track is unknown
	CodeRateLimited  = "rate_limited"        // over the message rate
	CodeNegotiation  = "negotiation_failed"  // the SDP or candidate was refused by WebRTC
	CodeInternal     = "internal"            // a server fault; the connection stays usable
)

// ProtocolError is a refused message: a stable Code (one of the Code constants), the Field at
// fault if any, and a Message for people.
type ProtocolError struct {
	Code    string
	Field   string
	Message string
}

// Error implements error.
func (e *ProtocolError) Error() string {
	if e.Field != "" {
		return e.Code + ": " + e.Field + ": " + e.Message
	}
	return e.Code + ": " + e.Message
}

func protoErr(code, field, format string, args ...any) *ProtocolError {
	return &ProtocolError{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Candidate is an ICE candidate as the browser's RTCIceCandidateInit has it.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

func (c *Candidate) init() webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid,
		SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
}

func candidateOf(c webrtc.ICECandidateInit) *Candidate {
	return &Candidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment}
}

// Message is one client-to-server message, as Parse returns it. Only the fields of its Type
// are set.
type Message struct {
	V         int               `json:"v"`
	Type      string            `json:"type"`
	ID        string            `json:"id,omitempty"`
	Token     string            `json:"token,omitempty"`
	Resume    string            `json:"resume,omitempty"`
	PC        string            `json:"pc,omitempty"`
	SDP       string            `json:"sdp,omitempty"`
	Sources   map[string]string `json:"sources,omitempty"`
	Candidate *Candidate        `json:"candidate,omitempty"`
	Action    string            `json:"action,omitempty"`
	Target    string            `json:"target,omitempty"`
	Exhibit   string            `json:"exhibit,omitempty"`
	Item      string            `json:"item,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	Video     *bool             `json:"video,omitempty"` // receive: whether to be sent video
}

// Field limits, to keep what one message can make the server hold small.
const (
	maxID      = 64
	maxToken   = 4096
	maxSources = 16
	maxCand    = 1024
	// maxKeptSources bounds the sources a participant's offers leave with the server: past
	// it, the next offer's replace them (tracks take theirs when they start).
	maxKeptSources = 4 * maxSources
)

var actions = map[string]bool{ActionAdmit: true, ActionToWaiting: true, ActionMute: true,
	ActionUnmute: true, ActionRemove: true, ActionGrantFloor: true, ActionRevokeFloor: true,
	ActionStart: true, ActionEnd: true, ActionShowExhibit: true, ActionStopExhibit: true,
	ActionPause: true, ActionResume: true}

// targeted are the actions that name a participant.
var targeted = map[string]bool{ActionAdmit: true, ActionToWaiting: true, ActionMute: true,
	ActionUnmute: true, ActionRemove: true, ActionGrantFloor: true, ActionRevokeFloor: true}

// Parse reads one client message strictly: at most MaxMessage bytes, one JSON object with
// "v": 1 and a type the client may send, with the fields that type requires, each of the
// right shape. Unknown fields are ignored, so that a newer client still talks to this server.
// The error is always a *ProtocolError.
func Parse(data []byte) (Message, error) {
	var m Message
	if len(data) > MaxMessage {
		return m, protoErr(CodeTooLarge, "", "message is %d bytes, over the limit of %d", len(data), MaxMessage)
	}
	if !utf8.Valid(data) {
		return m, protoErr(CodeMalformed, "", "message is not UTF-8")
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return m, protoErr(CodeMalformed, "", "message is not a JSON object")
	}
	var raw struct {
		V    *int    `json:"v"`
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return m, protoErr(CodeMalformed, "", "message is not valid JSON: %v", err)
	}
	if raw.V == nil {
		return m, protoErr(CodeMissingField, "v", "no protocol version")
	} else if *raw.V != Version {
		return m, protoErr(CodeVersion, "v", "version %d is not supported (use %d)", *raw.V, Version)
	}
	if raw.Type == nil || *raw.Type == "" {
		return m, protoErr(CodeMissingField, "type", "no message type")
	}
	switch *raw.Type {
	case TypeJoin, TypeOffer, TypeAnswer, TypeCandidate, TypeModerate, TypeMark, TypeLeave, TypeReceive:
	default:
		return m, protoErr(CodeUnknownType, "type", "unknown message type %.40q", *raw.Type)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&m); err != nil {
		return Message{}, protoErr(CodeMalformed, "", "a field has the wrong type: %v", err)
	}
	if len(m.Sources) == 0 {
		m.Sources = nil // "sources":{} says nothing
	}
	if len(m.ID) > maxID {
		return Message{}, protoErr(CodeBadField, "id", "id is longer than %d", maxID)
	}
	if err := m.check(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// check enforces the fields each type requires.
func (m *Message) check() error {
	switch m.Type {
	case TypeJoin:
		switch {
		case m.Token == "" && m.Resume == "":
			return protoErr(CodeMissingField, "token", "join needs a token or a resume token")
		case m.Token != "" && m.Resume != "":
			return protoErr(CodeBadField, "resume", "join takes a token or a resume token, not both")
		case len(m.Token) > maxToken || len(m.Resume) > maxToken:
			return protoErr(CodeBadField, "token", "token is too long")
		}
	case TypeOffer, TypeAnswer:
		want := PCPub
		if m.Type == TypeAnswer {
			want = PCSub
		}
		if m.PC == "" {
			return protoErr(CodeMissingField, "pc", "%s needs pc", m.Type)
		} else if m.PC != want {
			return protoErr(CodeBadField, "pc", "a client %s is for pc %q only", m.Type, want)
		}
		if m.SDP == "" {
			return protoErr(CodeMissingField, "sdp", "%s needs sdp", m.Type)
		}
		if len(m.Sources) > maxSources {
			return protoErr(CodeBadField, "sources", "more than %d sources", maxSources)
		}
		for id, src := range m.Sources {
			if id == "" || len(id) > 256 {
				return protoErr(CodeBadField, "sources", "a track id is empty or too long")
			}
			switch src {
			case SourceCamera, SourceMicrophone, SourceScreen:
			default:
				return protoErr(CodeBadField, "sources", "unknown source %.20q", src)
			}
		}
	case TypeCandidate:
		if m.PC == "" {
			return protoErr(CodeMissingField, "pc", "candidate needs pc")
		} else if m.PC != PCPub && m.PC != PCSub {
			return protoErr(CodeBadField, "pc", "pc is pub or sub")
		}
		if m.Candidate == nil {
			return protoErr(CodeMissingField, "candidate", "candidate needs candidate")
		} else if len(m.Candidate.Candidate) > maxCand {
			return protoErr(CodeBadField, "candidate", "candidate is too long")
		}
	case TypeModerate:
		if m.Action == "" {
			return protoErr(CodeMissingField, "action", "moderate needs an action")
		} else if !actions[m.Action] {
			return protoErr(CodeBadField, "action", "unknown action %.40q", m.Action)
		}
		if targeted[m.Action] && m.Target == "" {
			return protoErr(CodeMissingField, "target", "%s needs a target", m.Action)
		}
		if m.Action == ActionShowExhibit && m.Exhibit == "" {
			return protoErr(CodeMissingField, "exhibit", "show_exhibit needs an exhibit")
		}
		if m.Action == ActionPause {
			if m.Reason == "" {
				return protoErr(CodeMissingField, "reason", "pause_recording needs a reason")
			} else if !pauseReasons[m.Reason] {
				return protoErr(CodeBadField, "reason", "the recording pauses only for recess, non_public_evidence or mediation (#29)")
			}
		}
	case TypeReceive:
		if m.Video == nil {
			return protoErr(CodeMissingField, "video", "receive needs video (true or false)")
		}
	case TypeMark:
		if m.Target == "" {
			return protoErr(CodeMissingField, "target", "mark needs a target")
		}
		if m.Item == "" {
			return protoErr(CodeMissingField, "item", "mark needs an item")
		} else if m.Item != ItemIdentityVerified && m.Item != ItemPledgeRead {
			return protoErr(CodeBadField, "item", "unknown item %.40q", m.Item)
		}
	}
	return nil
}

// Server-to-client messages. They are built with the structs below and sent as JSON.

// ParticipantInfo is a participant as others see it.
type ParticipantInfo struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Role      Role        `json:"role"`
	State     State       `json:"state"`
	Dropped   bool        `json:"dropped,omitempty"`
	Tracks    []TrackInfo `json:"tracks"`
	Muted     bool        `json:"muted"`
	Floor     bool        `json:"floor"`
	AudioOnly bool        `json:"audio_only,omitempty"` // receives no video, by their choice (#47)
	Checklist *Checklist  `json:"checklist,omitempty"`  // judges and clerks only
}

// TrackInfo is one published track.
type TrackInfo struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
}

// Checklist is the court's identity checklist of a witness (#26, #27, #28): filled in from the
// store at join, and by the judge's and clerk's marks.
type Checklist struct {
	IdentityVerified bool     `json:"identity_verified"`
	PledgeRead       bool     `json:"pledge_read"`
	AppraiserID      string   `json:"appraiser_id,omitempty"`
	LicenceNo        string   `json:"licence_no,omitempty"`
	LicenceValid     bool     `json:"licence_valid"`
	Signatory        bool     `json:"signatory"`
	Recusal          []string `json:"recusal"`
}

// HearingInfo is the state of the hearing as the room shows it.
type HearingInfo struct {
	ID        string  `json:"id,omitempty"`
	State     string  `json:"state"`
	Recording bool    `json:"recording"`
	Paused    string  `json:"recording_paused,omitempty"` // why the recording is paused
	Exhibit   *string `json:"exhibit"`
}

// Hearing states, as the room shows them.
const (
	HearingOpen    = "open"
	HearingStarted = "started"
	HearingEnded   = "ended"
)

// out is every message the server sends.
type out struct {
	V            int               `json:"v"`
	Type         string            `json:"type"`
	Ref          string            `json:"ref,omitempty"`
	Participant  any               `json:"participant,omitempty"` // an ID or a ParticipantInfo
	Participants []ParticipantInfo `json:"participants,omitempty"`
	Role         Role              `json:"role,omitempty"`
	State        State             `json:"state,omitempty"`
	Resume       string            `json:"resume,omitempty"`
	ICEServers   []iceServer       `json:"ice_servers,omitempty"`
	Hearing      *HearingInfo      `json:"hearing,omitempty"`
	PC           string            `json:"pc,omitempty"`
	SDP          string            `json:"sdp,omitempty"`
	Candidate    *Candidate        `json:"candidate,omitempty"`
	Why          string            `json:"why,omitempty"`
	Code         string            `json:"code,omitempty"`
	Message      string            `json:"message,omitempty"`
	Field        string            `json:"field,omitempty"`
}

// iceServer is a webrtc.ICEServer the way browsers spell it.
type iceServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential any      `json:"credential,omitempty"`
}

func encode(m out) []byte {
	m.V = Version
	b, err := json.Marshal(m)
	if err != nil { // only plain data is marshalled, so this is a bug; say so to the client
		return []byte(`{"v":1,"type":"error","code":"internal","message":"encode failed"}`)
	}
	return b
}

func errorMsg(ref string, e *ProtocolError) []byte {
	return encode(out{Type: TypeError, Ref: ref, Code: e.Code, Field: e.Field, Message: e.Message})
}
