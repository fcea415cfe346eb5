package loadtest

import (
	"encoding/json"

	"github.com/pion/webrtc/v4"
)

// The room protocol as docs/signaling.md writes it, for a client of its own: the load tool
// speaks it from the document, not from the server's types, so that it also checks that an
// independent client can be written from it.

// Message types and names from docs/signaling.md.
const (
	msgJoin         = "join"
	msgJoined       = "joined"
	msgOffer        = "offer"
	msgAnswer       = "answer"
	msgCandidate    = "candidate"
	msgParticipants = "participants"
	msgParticipant  = "participant"
	msgState        = "state"
	msgError        = "error"
	msgModerate     = "moderate"
	msgLeave        = "leave"
	pcPub           = "pub"
	pcSub           = "sub"
)

// Room roles the tool joins as.
const (
	roleJudge     = "judge"
	roleClerk     = "clerk"
	roleAppraiser = "appraiser"
	roleCounsel   = "counsel"
	roleParty     = "party"
	roleExpert    = "expert"
)

// outMsg is a client → server message.
type outMsg struct {
	V         int               `json:"v"`
	Type      string            `json:"type"`
	ID        string            `json:"id,omitempty"`
	Token     string            `json:"token,omitempty"`
	PC        string            `json:"pc,omitempty"`
	SDP       string            `json:"sdp,omitempty"`
	Sources   map[string]string `json:"sources,omitempty"`
	Candidate *candidate        `json:"candidate,omitempty"`
	Action    string            `json:"action,omitempty"`
	Target    string            `json:"target,omitempty"`
}

// inMsg is a server → client message; Participant is an ID in joined, left and speaker, and
// an object in participant.
type inMsg struct {
	Type         string            `json:"type"`
	Ref          string            `json:"ref"`
	Participant  json.RawMessage   `json:"participant"`
	Participants []participantInfo `json:"participants"`
	Role         string            `json:"role"`
	State        string            `json:"state"`
	PC           string            `json:"pc"`
	SDP          string            `json:"sdp"`
	Candidate    *candidate        `json:"candidate"`
	Code         string            `json:"code"`
	Message      string            `json:"message"`
}

type participantInfo struct {
	ID    string `json:"id"`
	Role  string `json:"role"`
	State string `json:"state"`
	Floor bool   `json:"floor"`
}

type candidate struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

func candidateOf(c webrtc.ICECandidateInit) *candidate {
	return &candidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex}
}

func (c *candidate) init() webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex}
}
