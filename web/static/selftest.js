// The appraiser's device and network self-test before a hearing (#19, #47): the camera, the
// microphone (a level meter), the upload bandwidth against the minimum, the room checklist;
// and the text of the pledge (保证书) read aloud on camera at the start of testimony (#28).
"use strict";

// Upload minimums in megabits a second (HMCTS guidance: 4 for video, 0.5 for audio only).
const minVideoMbps = 4;
const minAudioMbps = 0.5;

// measureUpload sends random bytes to the server a few times and returns the best rate in
// megabits a second.
async function measureUpload() {
  const size = 1 << 20;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const res = await fetch("/api/v1/selftest/upload", { method: "POST", body: data, credentials: "same-origin",
      headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrf } });
    if (!res.ok) throw new Error(localize((await res.json().catch(() => null))?.error?.message) || `HTTP ${res.status}`);
    const secs = Math.max(0.001, (performance.now() - t0) / 1000);
    best = Math.max(best, (size * 8) / secs / 1e6);
  }
  return best;
}

function checkRow(id, labelKey) {
  return el("li", { id, "data-result": "pending" }, el("strong", {}, t(labelKey)), " ", el("span", { class: "result" }, t("selftest.pending")));
}

function setCheck(id, result, text) {
  const li = document.getElementById(id);
  li.dataset.result = result;
  li.querySelector(".result").textContent = `${t("selftest.result." + result)} · ${text}`;
}

page("/selftest", ["appraiser"], "selftest.title", async (view) => {
  const video = el("video", { id: "selftest-video", autoplay: true, playsinline: true, muted: true, "aria-label": t("selftest.camera") });
  const meter = el("meter", { id: "mic-level", min: 0, max: 1, value: 0, "aria-label": t("selftest.mic_level") });
  const checks = el("ul", { class: "checks-list", "aria-live": "polite" },
    checkRow("check-camera", "selftest.camera"), checkRow("check-mic", "selftest.microphone"), checkRow("check-upload", "selftest.upload"));
  const run = button("selftest.run", { id: "run-selftest" });
  const env = el("fieldset", { class: "checks" }, el("legend", {}, t("selftest.room")),
    ...["quiet", "enclosed", "light", "alone"].map((k) => el("label", { class: "check" }, el("input", { type: "checkbox", name: k }), " ", t("selftest.room." + k))));
  view.append(el("p", { class: "lead" }, t("selftest.lead", { video: minVideoMbps, audio: minAudioMbps })),
    el("div", { class: "two" }, el("div", {}, video, el("p", {}, t("selftest.mic_level"), " ", meter)), el("div", {}, checks, run)),
    env,
    el("section", { id: "pledge", "aria-labelledby": "pledge-title", class: "pledge" }, el("h3", { id: "pledge-title" }, t("pledge.title")),
      el("p", {}, t("pledge.text")), el("p", { class: "hint" }, t("pledge.note"))));

  let stream = null;
  run.addEventListener("click", async () => {
    run.disabled = true;
    try {
      stream = stream || await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      video.srcObject = stream;
      const v = stream.getVideoTracks()[0];
      const s = v?.getSettings() || {};
      setCheck("check-camera", v ? "pass" : "fail", v ? `${v.label || ""} ${s.width || "?"}×${s.height || "?"}` : t("selftest.no_device"));
      const a = stream.getAudioTracks()[0];
      if (a) {
        const ctx = new AudioContext();
        const an = ctx.createAnalyser();
        ctx.createMediaStreamSource(stream).connect(an);
        const buf = new Float32Array(an.fftSize);
        let peak = 0;
        const tick = () => {
          an.getFloatTimeDomainData(buf);
          const rms = Math.sqrt(buf.reduce((x, y) => x + y * y, 0) / buf.length);
          meter.value = Math.min(1, rms * 4);
          peak = Math.max(peak, rms);
          if (document.body.contains(meter)) requestAnimationFrame(tick);
          else ctx.close();
        };
        tick();
        await new Promise((r) => setTimeout(r, 800));
        setCheck("check-mic", peak > 0.001 ? "pass" : "warn", `${a.label || ""} · ${t("selftest.level", { level: peak.toFixed(3) })}`);
      } else {
        setCheck("check-mic", "fail", t("selftest.no_device"));
      }
    } catch (err) {
      setCheck("check-camera", "fail", err.message);
      setCheck("check-mic", "fail", err.message);
    }
    try {
      const mbps = await measureUpload();
      const result = mbps >= minVideoMbps ? "pass" : mbps >= minAudioMbps ? "warn" : "fail";
      const key = result === "pass" ? "selftest.upload_ok" : result === "warn" ? "selftest.upload_audio" : "selftest.upload_low";
      setCheck("check-upload", result, t(key, { mbps: mbps.toFixed(1), video: minVideoMbps, audio: minAudioMbps }));
    } catch (err) {
      setCheck("check-upload", "fail", err.message);
    }
    run.disabled = false;
    document.body.dataset.selftest = "done";
  });
});
