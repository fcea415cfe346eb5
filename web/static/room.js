// chuting's hearing room: joins a hearing's video room and speaks the signaling protocol of
// docs/signaling.md over the room's WebSocket, with two peer connections to the server: "pub"
// (we offer and publish our camera and microphone) and "sub" (the server offers what we may
// receive, and we answer).
//
// Paths: /room/{hearingID} for a signed-in judge, clerk or summoned appraiser (a join token
// from POST /api/v1/hearings/{id}/join-token); /join#{secret} for the holder of a personal
// link without an account (a join token from POST /api/v1/links/redeem).
"use strict";

// Names come from the message catalogue (i18n/*.json): roles, hearing states, why the server
// closed the room's WebSocket (by close code, docs/signaling.md "Joining"), and the error codes
// of the protocol's error messages. The server's own close reason is shown when it sends one.
const roleName = (r) => t("role." + r, null, r);
const hearingStateName = (s) => t("room.state." + s, null, s);
const closeReason = (code) => t("room.close." + code, null, "");
const errorName = (code) => t("room.error." + code, null, code);

// The resume window: a dropped participant keeps its place this long (docs/signaling.md).
const resumeWindowMs = 30000;

const $ = (id) => document.getElementById(id);

function setStatus(text, state) {
  $("status").textContent = text;
  if (state) document.body.dataset.state = state;
}

function showNotice(text) {
  const n = $("notice");
  n.textContent = text;
  n.hidden = !text;
  if (text) console.warn("room:", text);
}

// Room is one participant's presence in a hearing room: the WebSocket, the two peer
// connections, and what the page shows of the room. A resume replaces the WebSocket and the
// peer connections but keeps the Room.
class Room {
  // info is a join token answer: {token, room (the WebSocket path), role, name, hearing_id}.
  // media is our camera and microphone (null if unavailable or an observer). fresh, if given,
  // gets a new join token when a resume is refused.
  constructor(info, media, fresh) {
    this.info = info;
    this.media = media;
    this.fresh = fresh;
    this.ws = null;
    this.pub = null;
    this.sub = null;
    this.pending = { pub: [], sub: [] }; // remote candidates before the remote description
    this.queue = Promise.resolve(); // handles server messages one at a time, in order
    this.self = "";
    this.role = info.role;
    this.state = "";
    this.hearing = {};
    this.people = new Map(); // participant ID → the participant as the server describes it
    this.speaker = "";
    this.tiles = new Map(); // remote MediaStreamTrack → {el, participant}
    this.watched = new WeakSet(); // remote streams whose removetrack we listen to
    this.items = new Map(); // participant ID → its item in the list
    this.waitingNote = el("li", { class: "muted-note" }, t("room.waiting_note"));
    this.requests = new Map(); // request ID → {resolve, reject}
    this.seq = 0;
    this.resumeToken = "";
    this.droppedAt = 0;
    this.left = false;
    this.closed = false;
  }

  // connect opens the WebSocket and sends join with a token or a resume token.
  connect(join) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + this.info.room);
    this.ws = ws;
    ws.onopen = () => this.send({ type: "join", ...join });
    ws.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.queue = this.queue.then(() => this.handle(m, ws)).catch((err) => {
        console.error("room: handling", m.type, err);
        showNotice(`${errorName("negotiation_failed")}: ${err.message || err}`);
      });
    };
    ws.onclose = (ev) => this.onClose(ws, ev);
  }

  send(m) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ v: 1, ...m }));
  }

  // request sends a moderate, mark or receive message and resolves on its ok, rejects on its
  // error.
  request(m) {
    const id = String(++this.seq);
    return new Promise((resolve, reject) => {
      this.requests.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.requests.delete(id)) reject(new Error(t("room.no_answer")));
      }, 10000);
      this.send({ ...m, id });
    });
  }

  async handle(m, ws) {
    if (ws !== this.ws) return; // from a connection we replaced
    switch (m.type) {
      case "joined": return this.onJoined(m);
      case "offer": return this.onOffer(m);
      case "answer": return this.onAnswer(m);
      case "candidate": return this.onCandidate(m);
      case "participants":
        this.people = new Map(m.participants.map((p) => [p.id, p]));
        break;
      case "participant":
        this.people.set(m.participant.id, m.participant);
        break;
      case "left":
        this.people.delete(m.participant);
        for (const [track, tile] of this.tiles) if (tile.participant === m.participant) this.removeTile(track);
        break;
      case "speaker":
        this.speaker = m.participant;
        break;
      case "hearing":
        this.hearing = { ...this.hearing, ...m.hearing };
        break;
      case "state":
        this.setState(m.state);
        break;
      case "ok":
      case "error": {
        const r = this.requests.get(m.ref);
        if (r) {
          this.requests.delete(m.ref);
          if (m.type === "ok") r.resolve();
          else r.reject(new Error(`${errorName(m.code)}: ${localize(m.message)}`));
        } else if (m.type === "error") {
          showNotice(`${errorName(m.code)}: ${localize(m.message)}`);
        }
        return;
      }
      default:
        return; // a newer server's message: ignore it
    }
    this.render();
  }

  onJoined(m) {
    this.self = m.participant;
    this.role = m.role;
    this.resumeToken = m.resume;
    this.iceServers = m.ice_servers || [];
    this.hearing = m.hearing || {};
    this.droppedAt = 0;
    saveResume(this);
    showNotice("");
    $("me").hidden = false;
    $("me-name").textContent = this.info.name;
    this.showWhat();
    $("me-role").textContent = roleName(m.role);
    $("room").hidden = false;
    // A join, or a resume: either way new peer connections (docs/signaling.md, "Resuming").
    this.closePeers();
    for (const track of [...this.tiles.keys()]) this.removeTile(track);
    this.sub = this.newPeer("sub");
    this.sub.ontrack = (ev) => this.onTrack(ev);
    this.setState(m.state);
    // Audio only outlives a new join (a refused resume): the server starts every participant
    // on video, so tell it again (harmless after a resume, which keeps it).
    if (document.body.classList.contains("audio-only")) this.request({ type: "receive", video: false }).catch(() => {});
    this.publish().catch((err) => showNotice(`${errorName("negotiation_failed")}: ${err.message || err}`));
    this.watchQuality();
    this.render();
  }

  // showWhat says which hearing this is: all a personal link's holder knows of it.
  showWhat() {
    if (!this.info.case_no) return;
    $("hearing-what").textContent = `${this.info.court || ""} ${this.info.case_no} · ${when(this.info.start)}`;
    $("hearing-what").hidden = false;
  }

  // watchQuality shows the connection's quality from the peer connections' statistics every
  // two seconds: the round trip of the selected candidate pair and the share of packets
  // lost, so that a witness on a poor network knows to switch to audio only (#47).
  watchQuality() {
    if (this.qualityTimer) return;
    let last = null;
    this.qualityTimer = setInterval(async () => {
      const pc = this.pub || this.sub;
      if (!pc || this.closed) return;
      let rtt = null;
      let lost = 0;
      let received = 0;
      try {
        const stats = await pc.getStats();
        stats.forEach((s) => {
          if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime * 1000;
          if (s.type === "remote-inbound-rtp") lost += s.packetsLost || 0;
        });
        if (this.sub) {
          (await this.sub.getStats()).forEach((s) => {
            if (s.type === "inbound-rtp") {
              lost += s.packetsLost || 0;
              received += s.packetsReceived || 0;
            }
          });
        }
      } catch {
        return;
      }
      const now = { lost, received };
      const dLost = last ? now.lost - last.lost : 0;
      const dAll = last ? dLost + now.received - last.received : 0;
      last = now;
      const loss = dAll > 0 ? (100 * dLost) / dAll : 0;
      const level = rtt === null ? "unknown" : rtt > 400 || loss > 8 ? "poor" : rtt > 150 || loss > 2 ? "fair" : "good";
      this.quality = { level, rtt, loss };
      this.showQuality();
    }, 2000);
  }

  showQuality() {
    const q = this.quality;
    const box = $("quality");
    if (!q || q.level === "unknown" || this.closed) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.dataset.quality = q.level;
    box.textContent = `${t("room.quality." + q.level)} · ${t("room.quality.detail", { rtt: Math.round(q.rtt), loss: q.loss.toFixed(1) })}`;
  }

  // newPeer makes a peer connection with the ICE servers from joined; its candidates go to
  // the server while it is still the current one.
  newPeer(name) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers || [] });
    pc.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate && this[name] === pc) {
        this.send({ type: "candidate", pc: name, candidate: ev.candidate.toJSON() });
      }
    };
    pc.onconnectionstatechange = () => console.info(`room: ${name} ${pc.connectionState}`);
    this.pending[name] = [];
    return pc;
  }

  // publish offers our tracks on pub, saying which is the camera and which the microphone.
  async publish() {
    if (!this.media || this.role === "observer") return;
    const pc = this.newPeer("pub");
    this.pub = pc;
    const sources = {};
    for (const track of this.media.getTracks()) {
      const tr = pc.addTransceiver(track, { direction: "sendonly", streams: [this.media] });
      if (track.kind === "video") this.videoSender = tr.sender;
      sources[track.id] = track.kind === "audio" ? "microphone" : "camera";
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (this.pub === pc) this.send({ type: "offer", pc: "pub", sdp: pc.localDescription.sdp, sources });
    if (document.body.classList.contains("audio-only")) await this.sendVideo(false);
  }

  // sendVideo starts or stops sending our camera on pub, without renegotiating: on audio only
  // (#47) the uplink carries the sound alone.
  sendVideo(on) {
    if (!this.videoSender) return Promise.resolve();
    return this.videoSender.replaceTrack(on ? this.media?.getVideoTracks()[0] || null : null);
  }

  // onOffer answers the server's offer on sub: the tracks we receive changed.
  async onOffer(m) {
    if (m.pc !== "sub" || !this.sub) return;
    const pc = this.sub;
    await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    await this.flush("sub", pc);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (this.sub === pc) this.send({ type: "answer", pc: "sub", sdp: pc.localDescription.sdp });
  }

  async onAnswer(m) {
    if (m.pc !== "pub" || !this.pub) return;
    const pc = this.pub;
    await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
    await this.flush("pub", pc);
  }

  // onCandidate applies a server candidate to the peer connection its pc names, or keeps it
  // until that connection has a remote description.
  async onCandidate(m) {
    if (!m.candidate || !m.candidate.candidate) return; // end of candidates
    const pc = m.pc === "pub" ? this.pub : this.sub;
    if (!pc || !pc.remoteDescription) {
      this.pending[m.pc === "pub" ? "pub" : "sub"].push(m.candidate);
      return;
    }
    await pc.addIceCandidate(m.candidate).catch((err) => console.warn("room: candidate", err));
  }

  async flush(name, pc) {
    const cands = this.pending[name];
    this.pending[name] = [];
    for (const c of cands) await pc.addIceCandidate(c).catch((err) => console.warn("room: candidate", err));
  }

  // onTrack shows a received track: video in a tile of its own, audio in a hidden element.
  // In sub, a track's stream ID is its publisher's participant ID.
  onTrack(ev) {
    const track = ev.track;
    const stream = ev.streams[0];
    const participant = stream ? stream.id : "";
    if (stream && !this.watched.has(stream)) {
      this.watched.add(stream);
      stream.addEventListener("removetrack", (e) => this.removeTile(e.track));
    }
    const old = this.tiles.get(track);
    if (old) { // a transceiver reused for another publisher's track
      old.participant = participant;
      old.el.dataset.participant = participant;
      this.render();
      return;
    }
    let media;
    if (track.kind === "video") {
      media = el("video", { class: "remote", autoplay: "", playsinline: "" });
      media.muted = true; // its sound comes through the audio element, so it may always autoplay
    } else {
      media = el("audio", { class: "remote-audio", autoplay: "" });
    }
    media.srcObject = new MediaStream([track]);
    const tile = track.kind === "video"
      ? el("figure", { class: "tile" }, media, el("figcaption"))
      : media;
    tile.dataset.participant = participant;
    $(track.kind === "video" ? "remotes" : "audios").append(tile);
    this.tiles.set(track, { el: tile, participant });
    track.addEventListener("ended", () => this.removeTile(track));
    media.play().catch(() => {
      if (track.kind === "audio") $("sound").hidden = false; // autoplay with sound needs a click
    });
    console.info(`room: receiving ${track.kind} from ${participant}`);
    this.render();
  }

  removeTile(track) {
    const tile = this.tiles.get(track);
    if (!tile) return;
    tile.el.remove();
    this.tiles.delete(track);
  }

  setState(state) {
    this.state = state;
    $("waiting").hidden = state !== "waiting";
    if (state === "waiting") {
      // Witnesses see and hear no one while waiting (#17); the server takes the tracks away too.
      this.people.clear();
      for (const track of [...this.tiles.keys()]) this.removeTile(track);
      setStatus(t("room.status_waiting"), "waiting");
    } else {
      setStatus(t("room.status_admitted"), "admitted");
    }
    this.render();
  }

  // render shows the hearing's state, the participants and the controls the role has.
  render() {
    const state = this.hearing.state;
    $("hearing-state").textContent = state
      ? `· ${hearingStateName(state)}` // the recording banner beside it says whether it records
      : "";
    // The recording indicator is for everyone in the room, waiting or not (录音录像规定).
    $("recording").hidden = !this.hearing.recording || this.closed;
    $("me-role").textContent = this.role ? roleName(this.role) : "";
    const judge = this.role === "judge";
    $("hearing-controls").hidden = !judge;
    $("start-hearing").disabled = state !== "open";
    $("end-hearing").disabled = state === "ended";

    // The list is updated in place: an item is rebuilt only when what it shows changed, so
    // that a button is not replaced under the pointer while someone clicks it.
    const items = [];
    if (this.state === "waiting") items.push(this.waitingNote);
    const order = { judge: 0, clerk: 1, appraiser: 2 };
    const people = [...this.people.values()].sort((a, b) =>
      (a.state === "waiting") - (b.state === "waiting") || (order[a.role] ?? 9) - (order[b.role] ?? 9));
    const kept = new Map();
    for (const p of people) {
      const sig = JSON.stringify([p, this.role, this.self]);
      let li = this.items.get(p.id);
      if (!li || li.dataset.sig !== sig) {
        li = this.participantItem(p);
        li.dataset.sig = sig;
      }
      li.classList.toggle("speaking", p.id === this.speaker);
      kept.set(p.id, li);
      items.push(li);
    }
    this.items = kept;
    const list = $("participants");
    if (items.length !== list.children.length || items.some((li, i) => list.children[i] !== li)) {
      list.replaceChildren(...items);
    }

    for (const tile of this.tiles.values()) {
      const p = this.people.get(tile.participant);
      const cap = tile.el.querySelector("figcaption");
      if (cap) {
        cap.textContent = p ? `${p.name} · ${roleName(p.role)}${p.state === "waiting" ? ` · ${t("room.waiting")}` : ""}` : "";
      }
      tile.el.classList.toggle("speaking", tile.participant === this.speaker);
    }
  }

  participantItem(p) {
    const self = p.id === this.self;
    const li = el("li", { class: `participant ${p.state}`, "data-participant": p.id, "data-role": p.role, "data-state": p.state,
      "data-audio-only": String(!!p.audio_only) },
      el("span", { class: "name", "data-speaking-label": t("room.speaking") }, p.name + (self ? t("room.you_suffix") : "")), " ",
      el("span", { class: "role" }, roleName(p.role)), " ",
      el("span", { class: "state" }, p.state === "waiting" ? t("room.waiting") : t("room.admitted")));
    const flags = [];
    if (p.dropped) flags.push(t("room.dropped"));
    if (p.muted) flags.push(t("room.muted"));
    if (p.floor) flags.push(t("room.has_floor"));
    if (p.audio_only) flags.push(t("room.audio_only_flag"));
    if (flags.length) li.append(" ", el("span", { class: "flags" }, flags.join(" · ")));
    if (p.checklist && p.role === "appraiser") li.append(this.checklist(p));
    if (!self) li.append(this.controls(p));
    return li;
  }

  // checklist shows a witness's identity checklist to the judge and the clerk (#26, #27).
  checklist(p) {
    const c = p.checklist;
    const yes = (b) => (b ? t("common.yes") : t("common.no"));
    const dl = el("dl", { class: "checklist" },
      el("dt", {}, t("room.licence")),
      el("dd", { class: c.licence_valid ? "" : "warn" },
        `${c.licence_no || "—"} · ${c.licence_valid ? t("room.valid") : t("room.not_valid")}`),
      el("dt", {}, t("room.signatory")), el("dd", {}, yes(c.signatory)),
      el("dt", {}, t("room.ties")),
      el("dd", { class: c.recusal?.length ? "warn" : "" }, c.recusal?.length ? c.recusal.join("、") : t("common.none")));
    const item = (label, key, button) => {
      dl.append(el("dt", {}, label));
      const dd = el("dd", {}, yes(c[key]));
      if (!c[key] && this.may("mark")) {
        dd.append(" ", el("button", { type: "button", class: "small", "data-mark": key, "data-target": p.id }, button));
      }
      dl.append(dd);
    };
    item(t("room.identity_verified"), "identity_verified", t("room.verify"));
    item(t("room.pledge_read"), "pledge_read", t("room.record"));
    return dl;
  }

  // may reports whether our role may give a moderation action (as the server enforces it).
  may(action) {
    if (this.role === "judge") return true;
    if (this.role === "clerk") return ["admit", "mute", "unmute", "mark"].includes(action);
    return false;
  }

  controls(p) {
    const box = el("div", { class: "controls" });
    const button = (action, label) => {
      if (this.may(action)) {
        box.append(el("button", { type: "button", class: `small ${action}`, "data-action": action, "data-target": p.id }, label));
      }
    };
    if (p.state === "waiting") {
      button("admit", t("room.admit"));
    } else {
      button(p.muted ? "unmute" : "mute", p.muted ? t("room.unmute") : t("room.mute"));
      if (["counsel", "party", "expert"].includes(p.role)) {
        button(p.floor ? "revoke_floor" : "grant_floor", p.floor ? t("room.revoke_floor") : t("room.grant_floor"));
      }
      if (p.role !== "judge" && p.role !== "clerk") button("to_waiting", t("room.to_waiting"));
    }
    if (p.role !== "judge") button("remove", t("room.remove"));
    return box;
  }

  // moderate gives a command and shows the server's refusal, if any.
  async moderate(m) {
    try {
      await this.request(m);
      showNotice("");
    } catch (err) {
      showNotice(err.message);
    }
  }

  onClose(ws, ev) {
    if (ws !== this.ws || this.closed) return;
    for (const r of this.requests.values()) r.reject(new Error(closeReason(ev.code) || t("room.connection_closed")));
    this.requests.clear();
    const now = Date.now();
    // A lost connection (1006) or a slow or failed one (1013) may resume within 30 s.
    if (!this.left && (ev.code === 1006 || ev.code === 1013) && this.resumeToken) {
      if (!this.droppedAt) this.droppedAt = now;
      if (now - this.droppedAt < resumeWindowMs - 2000) {
        setStatus(t("room.reconnecting"), "reconnecting");
        const wait = Math.min(4000, 500 + (now - this.droppedAt) / 4);
        setTimeout(() => this.connect({ resume: this.resumeToken }), wait);
        return;
      }
    }
    // A refused resume: with an account, join again as a new participant.
    if (!this.left && ev.code === 4005 && this.droppedAt && this.fresh) {
      this.resumeToken = "";
      this.droppedAt = 0;
      this.fresh().then((info) => {
        this.info = info;
        this.connect({ token: info.token });
      }).catch((err) => this.end(ev.code, err.message));
      return;
    }
    this.end(ev.code, ev.reason);
  }

  // end shows why the room closed and lets go of the camera and the connections.
  end(code, reason) {
    this.closed = true;
    clearInterval(this.qualityTimer);
    $("quality").hidden = true;
    clearResume();
    this.closePeers();
    if (this.media) for (const track of this.media.getTracks()) track.stop();
    for (const track of [...this.tiles.keys()]) this.removeTile(track);
    this.people.clear();
    this.render();
    $("waiting").hidden = true;
    $("hearing-controls").hidden = true;
    const text = localize(reason) || closeReason(code) || t("room.closed_code", { code });
    setStatus(t("room.out", { text }), "closed");
    if (code !== 1000) showNotice(text);
  }

  leave() {
    this.left = true;
    this.send({ type: "leave" });
    clearResume();
  }

  closePeers() {
    for (const name of ["pub", "sub"]) {
      if (this[name]) this[name].close();
      this[name] = null;
      this.pending[name] = [];
    }
  }
}

// Across a reload, the latest resume token is kept in this tab's session storage, so that a
// reloaded page takes its place back (and a witness need not wait again) within the window.
const resumeKey = "chuting.resume:" + location.pathname + location.hash;

function saveResume(room) {
  sessionStorage.setItem(resumeKey, JSON.stringify({ resume: room.resumeToken, info: { ...room.info, token: "" }, at: Date.now() }));
}

function clearResume() {
  sessionStorage.removeItem(resumeKey);
}

function savedResume() {
  try {
    const s = JSON.parse(sessionStorage.getItem(resumeKey) || "null");
    if (s && s.resume && Date.now() - s.at < resumeWindowMs - 2000) return s;
  } catch {
    // a damaged entry: start afresh
  }
  clearResume();
  return null;
}

// signIn resolves once the user is signed in, showing the sign-in form if needed.
async function signIn() {
  try {
    const me = await api("GET", "/api/v1/session");
    csrf = me.csrf_token || "";
    return me;
  } catch (err) {
    if (err.status !== 401) throw err;
  }
  setStatus(t("room.sign_in_first"), "login");
  $("login-section").hidden = false;
  return new Promise((resolve) => {
    $("login").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("login-error").textContent = "";
      try {
        const me = await api("POST", "/api/v1/session", { username: $("username").value, password: $("password").value });
        csrf = me.csrf_token;
        $("login-section").hidden = true;
        resolve(me);
      } catch (err) {
        $("login-error").textContent = err.message;
      }
    });
  });
}

// openMedia asks for the camera and microphone (the microphone only for an interpreter, #25).
// Without them the page still joins, to see and hear the others.
async function openMedia(role) {
  if (role === "observer") return null;
  try {
    const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: role !== "interpreter" });
    $("preview").srcObject = media;
    return media;
  } catch (err) {
    showNotice(t("room.media_unavailable", { error: err.message }));
    return null;
  }
}

function wireControls(room) {
  $("participants").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    if (b.dataset.mark) {
      room.moderate({ type: "mark", target: b.dataset.target, item: b.dataset.mark });
    } else if (b.dataset.action) {
      if (b.dataset.action === "remove" && !confirm(t("room.confirm_remove"))) return;
      room.moderate({ type: "moderate", action: b.dataset.action, target: b.dataset.target });
    }
  });
  $("start-hearing").addEventListener("click", () => room.moderate({ type: "moderate", action: "start" }));
  $("end-hearing").addEventListener("click", () => {
    if (confirm(t("room.confirm_end"))) {
      room.moderate({ type: "moderate", action: "end" });
    }
  });
  $("leave").addEventListener("click", () => room.leave());
  $("sound").addEventListener("click", () => {
    for (const a of document.querySelectorAll("#audios audio")) a.play().catch(() => {});
    $("sound").hidden = true;
  });
  const toggle = (id, kind, on, off) => {
    $(id).addEventListener("click", () => {
      const tracks = room.media ? room.media.getTracks().filter((tr) => tr.kind === kind) : [];
      for (const tr of tracks) tr.enabled = !tr.enabled;
      if (tracks.length) $(id).textContent = tracks[0].enabled ? off : on;
    });
  };
  toggle("toggle-mic", "audio", t("room.mic_on"), t("room.mic_off"));
  toggle("toggle-cam", "video", t("room.cam_on"), t("room.cam_off"));
  // Audio only (#47), one step: our camera stops sending (no video goes up), the server stops
  // sending us the others' video (which is no longer shown), and the judge sees the switch in
  // our entry; the microphone and the others' sound go on. The same button brings video back.
  $("audio-only").addEventListener("click", () => {
    const on = document.body.classList.toggle("audio-only");
    room.request({ type: "receive", video: !on }).catch((err) => showNotice(err.message || String(err)));
    for (const tr of room.media ? room.media.getVideoTracks() : []) tr.enabled = !on;
    room.sendVideo(!on).catch((err) => showNotice(err.message || String(err)));
    $("audio-only").setAttribute("aria-pressed", String(on));
    $("audio-only").textContent = on ? t("room.video_back") : t("room.audio_only");
    $("toggle-cam").disabled = on;
    setStatus(on ? t("room.audio_only_on") : (room.state === "waiting" ? t("room.status_waiting") : t("room.status_admitted")));
  });
  onLanguageChange = () => {
    if (room.closed) return;
    if (room.state) setStatus(room.state === "waiting" ? t("room.status_waiting") : t("room.status_admitted"));
    room.items = new Map(); // rebuild every item in the new language
    room.waitingNote.textContent = t("room.waiting_note");
    room.showWhat();
    room.render();
    room.showQuality();
  };
}

async function main() {
  await i18nReady;
  const path = location.pathname;
  const saved = savedResume();
  if (path === "/join") {
    // The link's secret is in the fragment, which the browser never sends to a server.
    const secret = decodeURIComponent(location.hash.slice(1));
    if (!secret && !saved) throw new Error(t("room.link_incomplete"));
    const info = saved ? saved.info : await api("POST", "/api/v1/links/redeem", { secret });
    return enter(info, saved, null);
  }
  const id = decodeURIComponent(path.slice("/room/".length));
  // fresh gets a join token; a session is needed for it (not for a resume).
  const fresh = async () => {
    if (!csrf) await signIn();
    return api("POST", `/api/v1/hearings/${encodeURIComponent(id)}/join-token`);
  };
  return enter(saved ? saved.info : await fresh(), saved, fresh);
}

async function enter(info, saved, fresh) {
  setStatus(t("room.opening_media"));
  const media = await openMedia(info.role);
  const room = new Room(info, media, fresh);
  window.chutingRoom = room; // for the browser test and for debugging from the console
  wireControls(room);
  setStatus(t("room.entering"), "joining");
  if (saved) {
    room.resumeToken = saved.resume;
    room.droppedAt = saved.at;
    room.connect({ resume: saved.resume });
  } else {
    room.connect({ token: info.token });
  }
  window.addEventListener("pagehide", () => {
    if (!room.closed && !room.left) saveResume(room);
  });
}

main().catch(async (err) => {
  await i18nReady;
  console.error("room:", err);
  setStatus(t("room.cannot_enter", { error: localize(err.message) }), "closed");
  showNotice(err.message);
});
