// chuting's hearing room: joins a hearing's video room and speaks the signaling protocol of
// docs/signaling.md over the room's WebSocket, with two peer connections to the server: "pub"
// (we offer and publish our camera and microphone) and "sub" (the server offers what we may
// receive, and we answer).
//
// Paths: /room/{hearingID} for a signed-in judge, clerk or summoned appraiser (a join token
// from POST /api/v1/hearings/{id}/join-token); /join#{secret} for the holder of a personal
// link without an account (a join token from POST /api/v1/links/redeem).
"use strict";

const roleNames = {
  judge: "法官 / Judge", clerk: "书记员 / Clerk", appraiser: "鉴定人 / Appraiser",
  counsel: "诉讼代理人 / Counsel", party: "当事人 / Party", expert: "专家辅助人 / Expert adviser",
  interpreter: "翻译 / Interpreter", observer: "旁听 / Observer",
};
const hearingStates = { open: "候审 / open", started: "庭审中 / in session", ended: "已闭庭 / ended" };

// Why the server closed the room's WebSocket, by close code (docs/signaling.md, "Joining").
// The server's own close reason (zh-CN / English) is shown when it sends one.
const closeReasons = {
  1000: "您已离开庭审室 / You left the hearing room",
  1001: "服务器正在停止，请稍后再进入 / The server is shutting down; come back shortly",
  1006: "连接中断 / The connection was lost",
  1011: "服务器内部错误 / Internal server error",
  1013: "连接过慢或媒体连接中断 / The connection was too slow or the media connection failed",
  4001: "未能及时加入 / The join was missing or invalid",
  4003: "入庭凭证无效 / The join token is invalid",
  4004: "入庭凭证属于另一庭审 / The join token is for another hearing",
  4005: "入庭凭证已过期，或庭审室未开放 / The token has expired, or the room is not open",
  4006: "入庭凭证已使用或链接已撤销 / The token was used already, or the link was revoked",
  4007: "您的身份不能进入本庭审 / Your role may not join this hearing",
  4008: "消息过多 / Too many messages",
  4009: "您已被法官请出庭审室 / The judge removed you from the hearing",
  4010: "庭审已结束 / The hearing has ended",
};

// Error codes of the protocol's error messages, for people.
const errorCodes = {
  forbidden: "无权执行 / not allowed", not_found: "找不到对象 / no such participant or exhibit",
  out_of_order: "当前状态下不能执行 / not possible now", rate_limited: "操作过于频繁 / too many messages",
  negotiation_failed: "媒体协商失败 / media negotiation failed", internal: "服务器内部错误 / internal error",
};

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
    this.waitingNote = el("li", { class: "muted-note" }, "等候期间不显示其他参与人 / While you wait you see no one else");
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
        showNotice(`${errorCodes.negotiation_failed}: ${err.message || err}`);
      });
    };
    ws.onclose = (ev) => this.onClose(ws, ev);
  }

  send(m) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ v: 1, ...m }));
  }

  // request sends a moderate or mark message and resolves on its ok, rejects on its error.
  request(m) {
    const id = String(++this.seq);
    return new Promise((resolve, reject) => {
      this.requests.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.requests.delete(id)) reject(new Error("无应答 / no answer"));
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
        for (const [track, t] of this.tiles) if (t.participant === m.participant) this.removeTile(track);
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
          else r.reject(new Error(`${errorCodes[m.code] || m.code}: ${m.message}`));
        } else if (m.type === "error") {
          showNotice(`${errorCodes[m.code] || m.code}: ${m.message}`);
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
    if (this.info.case_no) {
      // Which hearing this is: all a personal link's holder knows of it.
      const fmt = (iso) => new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", dateStyle: "medium", timeStyle: "short" });
      $("hearing-what").textContent = `${this.info.court || ""} ${this.info.case_no} · ${fmt(this.info.start)}`;
      $("hearing-what").hidden = false;
    }
    $("me-role").textContent = roleNames[m.role] || m.role;
    $("room").hidden = false;
    // A join, or a resume: either way new peer connections (docs/signaling.md, "Resuming").
    this.closePeers();
    for (const track of [...this.tiles.keys()]) this.removeTile(track);
    this.sub = this.newPeer("sub");
    this.sub.ontrack = (ev) => this.onTrack(ev);
    this.setState(m.state);
    this.publish().catch((err) => showNotice(`${errorCodes.negotiation_failed}: ${err.message || err}`));
    this.render();
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
      pc.addTransceiver(track, { direction: "sendonly", streams: [this.media] });
      sources[track.id] = track.kind === "audio" ? "microphone" : "camera";
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (this.pub === pc) this.send({ type: "offer", pc: "pub", sdp: pc.localDescription.sdp, sources });
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
    const t = this.tiles.get(track);
    if (!t) return;
    t.el.remove();
    this.tiles.delete(track);
  }

  setState(state) {
    this.state = state;
    $("waiting").hidden = state !== "waiting";
    if (state === "waiting") {
      // Witnesses see and hear no one while waiting (#17); the server takes the tracks away too.
      this.people.clear();
      for (const track of [...this.tiles.keys()]) this.removeTile(track);
      setStatus("等候室：请等候法官准许入庭 / Waiting room: wait until the judge admits you", "waiting");
    } else {
      setStatus("已入庭 / In the hearing", "admitted");
    }
    this.render();
  }

  // render shows the hearing's state, the participants and the controls the role has.
  render() {
    const state = this.hearing.state;
    $("hearing-state").textContent = state
      ? `· ${hearingStates[state] || state}${this.hearing.recording ? " · 录像中 / recording" : ""}`
      : "";
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

    for (const t of this.tiles.values()) {
      const p = this.people.get(t.participant);
      const cap = t.el.querySelector("figcaption");
      if (cap) {
        cap.textContent = p ? `${p.name} · ${roleNames[p.role] || p.role}${p.state === "waiting" ? " · 等候中 / waiting" : ""}` : "";
      }
      t.el.classList.toggle("speaking", t.participant === this.speaker);
    }
  }

  participantItem(p) {
    const self = p.id === this.self;
    const li = el("li", { class: `participant ${p.state}`, "data-participant": p.id, "data-role": p.role, "data-state": p.state },
      el("span", { class: "name" }, p.name + (self ? "（本人 / you）" : "")), " ",
      el("span", { class: "role" }, roleNames[p.role] || p.role), " ",
      el("span", { class: "state" }, p.state === "waiting" ? "等候中 / waiting" : "在庭 / admitted"));
    const flags = [];
    if (p.dropped) flags.push("已掉线 / dropped");
    if (p.muted) flags.push("已静音 / muted");
    if (p.floor) flags.push("有发言权 / has the floor");
    if (flags.length) li.append(" ", el("span", { class: "flags" }, flags.join(" · ")));
    if (p.checklist && p.role === "appraiser") li.append(this.checklist(p));
    if (!self) li.append(this.controls(p));
    return li;
  }

  // checklist shows a witness's identity checklist to the judge and the clerk (#26, #27).
  checklist(p) {
    const c = p.checklist;
    const yes = (b) => (b ? "是 / yes" : "否 / no");
    const dl = el("dl", { class: "checklist" },
      el("dt", {}, "执业证号 / Licence"),
      el("dd", { class: c.licence_valid ? "" : "warn" },
        `${c.licence_no || "—"} · ${c.licence_valid ? "有效 / valid" : "无效 / not valid"}`),
      el("dt", {}, "鉴定意见签名人 / Signed the opinion"), el("dd", {}, yes(c.signatory)),
      el("dt", {}, "申报的利害关系 / Declared ties"),
      el("dd", { class: c.recusal?.length ? "warn" : "" }, c.recusal?.length ? c.recusal.join("、") : "无 / none"));
    const item = (label, key, button) => {
      dl.append(el("dt", {}, label));
      const dd = el("dd", {}, yes(c[key]));
      if (!c[key] && this.may("mark")) {
        dd.append(" ", el("button", { type: "button", class: "small", "data-mark": key, "data-target": p.id }, button));
      }
      dl.append(dd);
    };
    item("身份已核验 / Identity verified", "identity_verified", "核验通过 / Verified");
    item("保证书已宣读 / Pledge read", "pledge_read", "记录 / Record");
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
      button("admit", "准许入庭 / Admit");
    } else {
      button(p.muted ? "unmute" : "mute", p.muted ? "取消静音 / Unmute" : "静音 / Mute");
      if (["counsel", "party", "expert"].includes(p.role)) {
        button(p.floor ? "revoke_floor" : "grant_floor", p.floor ? "收回发言权 / Revoke floor" : "准许发言 / Give floor");
      }
      if (p.role !== "judge" && p.role !== "clerk") button("to_waiting", "退回等候室 / To waiting room");
    }
    if (p.role !== "judge") button("remove", "请出 / Remove");
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
    for (const r of this.requests.values()) r.reject(new Error(closeReasons[ev.code] || "连接已关闭 / connection closed"));
    this.requests.clear();
    const now = Date.now();
    // A lost connection (1006) or a slow or failed one (1013) may resume within 30 s.
    if (!this.left && (ev.code === 1006 || ev.code === 1013) && this.resumeToken) {
      if (!this.droppedAt) this.droppedAt = now;
      if (now - this.droppedAt < resumeWindowMs - 2000) {
        setStatus("连接中断，正在重新连接… / Connection lost, reconnecting…", "reconnecting");
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
    clearResume();
    this.closePeers();
    if (this.media) for (const t of this.media.getTracks()) t.stop();
    for (const track of [...this.tiles.keys()]) this.removeTile(track);
    this.people.clear();
    this.render();
    $("waiting").hidden = true;
    $("hearing-controls").hidden = true;
    const text = reason || closeReasons[code] || `连接已关闭 / connection closed (${code})`;
    setStatus(`已退出庭审室 / Out of the hearing room: ${text}`, "closed");
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
  setStatus("请先登录 / Please sign in", "login");
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
    showNotice(`无法使用摄像头或麦克风 / Camera or microphone unavailable: ${err.message}`);
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
      if (b.dataset.action === "remove" && !confirm("确定请出此人？ / Remove this participant?")) return;
      room.moderate({ type: "moderate", action: b.dataset.action, target: b.dataset.target });
    }
  });
  $("start-hearing").addEventListener("click", () => room.moderate({ type: "moderate", action: "start" }));
  $("end-hearing").addEventListener("click", () => {
    if (confirm("确定闭庭？所有人将离开庭审室。 / End the hearing? Everyone leaves the room.")) {
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
      const tracks = room.media ? room.media.getTracks().filter((t) => t.kind === kind) : [];
      for (const t of tracks) t.enabled = !t.enabled;
      if (tracks.length) $(id).textContent = tracks[0].enabled ? off : on;
    });
  };
  toggle("toggle-mic", "audio", "打开麦克风 / Mic on", "关闭麦克风 / Mic off");
  toggle("toggle-cam", "video", "打开摄像头 / Camera on", "关闭摄像头 / Camera off");
}

async function main() {
  const path = location.pathname;
  const saved = savedResume();
  if (path === "/join") {
    // The link's secret is in the fragment, which the browser never sends to a server.
    const secret = decodeURIComponent(location.hash.slice(1));
    if (!secret && !saved) throw new Error("链接不完整 / the link is incomplete");
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
  setStatus("正在打开摄像头和麦克风… / Opening camera and microphone…");
  const media = await openMedia(info.role);
  const room = new Room(info, media, fresh);
  window.chutingRoom = room; // for the browser test and for debugging from the console
  wireControls(room);
  setStatus("正在进入庭审室… / Entering the hearing room…", "joining");
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

main().catch((err) => {
  console.error("room:", err);
  setStatus(`无法进入庭审室 / Cannot enter the hearing room: ${err.message}`, "closed");
  showNotice(err.message);
});
