// Package signaling runs one video room per hearing on this node: the WebSocket signaling
// protocol and a pion/webrtc SFU with the court's roles, a waiting room for witnesses
// (DOMAIN.md §4 #17), judge controls (#20, #21), the identity checklist (#26–#28),
// reconnection, and attendance events in the hearing's log (#34).
//
// The protocol is the contract with the clients and is written in prose in
// ../docs/signaling.md; an independent client can be written from it alone. Server is the
// http.Handler of GET /api/v1/hearings/{id}/room; Server.JoinToken issues the join tokens
// that the HTTP routes hand to signed-in users and personal links (#49).
//
// Files: protocol.go (messages, Parse), token.go (join tokens, close codes), role.go (what
// each role may do), server.go (the handler, rooms by hearing), room.go and moderate.go (a
// room's state), participant.go and peer.go (one person's connections), forward.go (the
// media hot path), srtpout.go and srtpin.go (the RTP the server encrypts and decrypts
// itself), report.go and receive.go (sender reports; receiver reports and NACKs), api.go (codecs, interceptors, ICE ports), attendance.go, checklist.go,
// metrics.go.
package signaling
