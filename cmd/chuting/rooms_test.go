package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/signaling"
	"github.com/gorilla/websocket"
)

// TestRoomsWiring starts the server with the embedded TURN relay and checks what the rooms
// run on: the keys made once in the data folder (0600), and a participant's joined message
// carrying the relay's address with credentials issued to them.
func TestRoomsWiring(t *testing.T) {
	data := t.TempDir()
	m := startMain(t, "--data", data, "--turn-udp", "127.0.0.1:0", "--turn-tcp", "127.0.0.1:0")
	for _, name := range []string{"room.key", "turn.key"} {
		fi, err := os.Stat(filepath.Join(data, "keys", name))
		if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
			t.Fatalf("%s: %v %v", name, fi, err)
		}
	}
	ctx := context.Background()
	start := time.Now().Add(5 * time.Minute)
	h := &chuting.Hearing{SummonsID: "none", CourtID: "c", InstitutionID: "i", Mode: chuting.ModeRemote,
		Start: start, End: start.Add(time.Hour)}
	if err := chuting.Create(ctx, m.Store, h); err != nil {
		t.Fatal(err)
	}
	token, err := m.Rooms.JoinToken(ctx, h.ID, "judge-1", "黄法官", signaling.RoleJudge)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+m.Addr()+"/api/v1/hearings/"+h.ID+"/room", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(signaling.Message{V: signaling.Version, Type: signaling.TypeJoin, Token: token}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var joined struct {
		Type       string `json:"type"`
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"ice_servers"`
	}
	if err := ws.ReadJSON(&joined); err != nil {
		t.Fatal(err)
	}
	if joined.Type != signaling.TypeJoined || len(joined.ICEServers) != 1 {
		b, _ := json.Marshal(joined)
		t.Fatalf("joined: %s", b)
	}
	s := joined.ICEServers[0]
	if len(s.URLs) != 2 || !strings.HasPrefix(s.URLs[0], "turn:127.0.0.1:") || !strings.HasSuffix(s.URLs[0], "?transport=udp") ||
		!strings.HasSuffix(s.URLs[1], "?transport=tcp") || !strings.HasSuffix(s.Username, ":judge-1") || s.Credential == "" {
		t.Fatalf("ice server %+v", s)
	}

	// A restart keeps the keys: tokens issued before it still verify.
	key, _ := os.ReadFile(filepath.Join(data, "keys", "room.key"))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := startMain(t, "--data", data)
	again, _ := os.ReadFile(filepath.Join(data, "keys", "room.key"))
	if string(key) != string(again) || m2.Rooms == nil {
		t.Fatal("the room key changed on restart")
	}
}

// TestRoomFlagsRefused checks that bad --rtc-* and --turn-* values stop the server with the
// flag named.
func TestRoomFlagsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"--rtc-public-ip", "not-an-ip"},
		{"--rtc-udp-port", "70000"},
		{"--rtc-tcp-port", "-2"},
		{"--rtc-max-participants", "-1"},
		{"--turn-udp", "3478"},
		{"--allowed-origins", "court.example"},
	} {
		m := NewMain(os.Stdout, os.Stderr)
		err := m.ParseFlags(args, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v, want an error naming %s", args, err, args[0])
		}
	}
}

// TestNodeID checks that a data folder names its node once and for all: the same name on
// every start, another in another folder, and a clear error for an emptied file.
func TestNodeID(t *testing.T) {
	dir := t.TempDir()
	first, err := nodeID(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := nodeID(dir)
	if err != nil || again != first {
		t.Fatalf("second start: %q, %v; want %q", again, err, first)
	}
	other, err := nodeID(t.TempDir())
	if err != nil || other == first {
		t.Fatalf("another folder: %q, %v; want a name other than %q", other, err, first)
	}
	if err := os.WriteFile(filepath.Join(dir, nodeIDFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeID(dir); err == nil || !strings.Contains(err.Error(), nodeIDFile) {
		t.Fatalf("an empty node-id: %v, want an error naming it", err)
	}
}
