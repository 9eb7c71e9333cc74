// Sounds, synthesised with WebAudio (no sound files): your turn, the clock running low, and a win.
// A mute toggle in the top bar is remembered per browser (localStorage "felt.muted"). Browsers start
// audio only after a gesture on the page, so the context is created or resumed on the first click or
// key. `played` lists what was played (name and time), for the curious and for the browser tests.

import { $ } from "./dom.js";

const STORE = "felt.muted";

// Each sound: notes of [frequency Hz, start s, length s], a wave shape and a peak volume.
const SOUNDS = {
  turn: { wave: "sine", gain: 0.18, notes: [[660, 0, 0.12], [880, 0.11, 0.16]] },
  clock: { wave: "square", gain: 0.06, notes: [[1040, 0, 0.05], [1040, 0.16, 0.05]] },
  win: { wave: "triangle", gain: 0.2, notes: [[523, 0, 0.12], [659, 0.1, 0.12], [784, 0.2, 0.12], [1047, 0.3, 0.3]] },
};

export class Sound {
  constructor() {
    this.muted = localStorage.getItem(STORE) === "1";
    this.ctx = null;
    this.played = [];
    const wake = () => this.context();
    document.addEventListener("pointerdown", wake, { capture: true });
    document.addEventListener("keydown", wake, { capture: true });
  }

  mount() {
    const button = $("mute");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", () => this.setMuted(!this.muted));
    this.renderButton();
  }

  setMuted(muted) {
    this.muted = muted;
    if (muted) localStorage.setItem(STORE, "1");
    else localStorage.removeItem(STORE);
    this.renderButton();
  }

  renderButton() {
    const button = $("mute");
    if (!button) return;
    button.setAttribute("aria-pressed", String(this.muted));
    button.title = this.muted ? "Sounds are muted: press to hear them again" : "Mute sounds";
  }

  context() {
    const Ctx = window.AudioContext ?? window.webkitAudioContext;
    if (!Ctx) return null;
    if (!this.ctx) {
      try {
        this.ctx = new Ctx();
      } catch {
        return null;
      }
    }
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    return this.ctx;
  }

  /** Play a named sound (turn, clock, win) unless muted. */
  play(name) {
    const sound = SOUNDS[name];
    if (!sound || this.muted) return false;
    this.played.push({ name, at: Date.now() });
    this.played.splice(0, Math.max(0, this.played.length - 50));
    const ctx = this.context();
    if (!ctx) return true;
    const start = ctx.currentTime + 0.01;
    for (const [freq, at, length] of sound.notes) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = sound.wave;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(sound.gain, start + at + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + length);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + at);
      osc.stop(start + at + length + 0.02);
    }
    return true;
  }
}
