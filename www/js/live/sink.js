// The live player's MSE end: one MediaSource (ManagedMediaSource where
// MediaSource is missing, as on iPhone Safari) attached to the <video>
// through an object URL (revoked once open), one SourceBuffer in "segments"
// mode, and a queue of appends: appendBuffer only when not updating, queued
// fragments with the same timestampOffset appended together, removals
// between appends, QuotaExceededError answered by evicting and retrying.
// A new init segment with another codec string (the hub moved the viewer to
// the doorbell's other stream) goes through SourceBuffer.changeType() in
// the queue's order: the MediaSource and what is buffered stay.

import { concat } from './media.js';

const COALESCE_BYTES = 1 << 20;

export class MediaSink {
  /**
   * onUpdate(): after every append or removal; onFail(reason, fatal): the
   * sink cannot go on (fatal: this browser cannot play the type at all).
   */
  constructor(video, { onUpdate, onFail }) {
    this.video = video;
    this.onUpdate = onUpdate;
    this.onFail = onFail;
    this.queue = [];            // { data, offset (null: keep), init, changeType (type: before this init) }
    this.removeRange = null;
    this.sb = null;
    this.mime = null;           // as announced (after our video-only edit)
    this.type = null;           // respelled for this browser
    this.quotaErrors = 0;
    this.closed = false;
    const MS = window.MediaSource || window.ManagedMediaSource;
    this.ms = new MS();
    this.url = URL.createObjectURL(this.ms);
    this.ms.addEventListener('sourceopen', () => {
      this.revoke();
      this.pump();
    }, { once: true });
    video.src = this.url;
  }

  /** Queue an init segment (offset null) or a media fragment at timestampOffset `offset`. */
  append(data, offset = null) {
    this.queue.push({ data, offset, init: offset === null });
    this.pump();
  }

  /** Can this browser switch the codec of a SourceBuffer (changeType)? */
  static canChangeType() {
    const SB = window.SourceBuffer || window.ManagedSourceBuffer;
    return Boolean(SB && SB.prototype && typeof SB.prototype.changeType === 'function');
  }

  /** Queue an init segment of another codec string (mime as announced, type respelled). */
  appendChangedType(data, mime, type) {
    this.mime = mime;
    this.queue.push({ data, offset: null, init: true, changeType: type });
    this.pump();
  }

  remove(from, to) {
    if (to <= from || this.removeRange) return;
    this.removeRange = [from, to];
    this.pump();
  }

  /** Appends still queued or running. */
  get busy() {
    return this.queue.length > 0 || Boolean(this.sb && this.sb.updating);
  }

  get ready() {
    return Boolean(this.sb);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.revoke();
    this.video.removeAttribute('src');
    this.video.load();   // detaches the MediaSource; the poster shows again
  }

  revoke() {
    if (this.url) { URL.revokeObjectURL(this.url); this.url = null; }
  }

  pump() {
    if (this.closed || this.ms.readyState !== 'open') return;
    if (!this.sb) {
      if (!this.type) return;
      try {
        this.sb = this.ms.addSourceBuffer(this.type);
        this.sb.mode = 'segments';
      } catch (e) {
        this.onFail(`cannot play ${this.type}: ${e.message}`, true);
        return;
      }
      this.sb.addEventListener('updateend', () => { this.pump(); this.onUpdate(); });
      this.sb.addEventListener('error', () => this.onFail('SourceBuffer error', false));
    }
    const sb = this.sb;
    if (sb.updating) return;
    if (this.removeRange) {
      const [from, to] = this.removeRange;
      this.removeRange = null;
      sb.remove(from, to);
      return;
    }
    if (!this.queue.length) return;
    const first = this.queue[0];
    let n = 1;
    if (first.changeType) {
      try {
        if (first.changeType !== this.type) sb.changeType(first.changeType);
        this.type = first.changeType;
        first.changeType = null;
        this.changedTypes = (this.changedTypes || 0) + 1;
      } catch (e) {
        this.onFail(`changeType: ${e.message}`, false);
        return;
      }
    }
    if (!first.init) {
      if (sb.timestampOffset !== first.offset) sb.timestampOffset = first.offset;
      let size = first.data.byteLength;
      while (n < this.queue.length && !this.queue[n].init && this.queue[n].offset === first.offset && size < COALESCE_BYTES) {
        size += this.queue[n++].data.byteLength;
      }
    }
    try {
      sb.appendBuffer(n === 1 ? first.data : concat(this.queue.slice(0, n).map((q) => q.data)));
      this.queue.splice(0, n);
      this.quotaErrors = 0;
    } catch (e) {
      if (e.name !== 'QuotaExceededError') { this.onFail(`appendBuffer: ${e.message}`, false); return; }
      // Full: evict all but the last second before the playhead, then retry.
      const t = this.video.currentTime;
      const from = sb.buffered.length ? sb.buffered.start(0) : 0;
      if (++this.quotaErrors > 3 || t - 1 <= from) { this.onFail('the buffer is full', false); return; }
      this.removeRange = [from, t - 1];
      setTimeout(() => this.pump(), 0);
    }
  }
}
