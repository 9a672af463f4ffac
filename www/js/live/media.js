// Media helpers of the live and recording players: a tiny ISO-BMFF box
// reader for the hub's fMP4 (track timescales from the init segment; track,
// decode time and duration of each moof+mdat fragment, so a player knows
// where every frame lands on the MSE timeline), the codecs string of an init
// segment (recordings come without the live view's "init" message), a
// splitter that cuts a byte stream into whole boxes, the MIME adjustment
// that finds a codecs string this browser's MediaSource accepts, and, for
// live sound over WebCodecs (sound.js), the samples (Opus packets) of a
// fragment and the channel count of an init segment's sound track.

/** Iterate the boxes in bytes[start, end): yields { type, start (of content), end }. */
function* boxes(bytes, start = 0, end = bytes.length) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return;
      size = view.getUint32(at + 8) * 2 ** 32 + view.getUint32(at + 12);
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) return;
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    yield { type, start: at + header, end: at + size, view };
    at += size;
  }
}

function child(bytes, parent, type) {
  for (const b of boxes(bytes, parent.start, parent.end)) if (b.type === type) return b;
  return null;
}

/** Init segment (ftyp+moov) -> Map(trackId -> { timescale, handler: 'vide'|'soun'|... }). */
export function parseInit(bytes) {
  const tracks = new Map();
  for (const moov of boxes(bytes)) {
    if (moov.type !== 'moov') continue;
    for (const trak of boxes(bytes, moov.start, moov.end)) {
      if (trak.type !== 'trak') continue;
      const tkhd = child(bytes, trak, 'tkhd');
      const mdia = child(bytes, trak, 'mdia');
      const mdhd = mdia && child(bytes, mdia, 'mdhd');
      const hdlr = mdia && child(bytes, mdia, 'hdlr');
      if (!tkhd || !mdhd) continue;
      const v = tkhd.view;
      const id = v.getUint32(tkhd.start + (bytes[tkhd.start] === 1 ? 20 : 12));
      const timescale = v.getUint32(mdhd.start + (bytes[mdhd.start] === 1 ? 20 : 12));
      const handler = hdlr ? String.fromCharCode(...bytes.subarray(hdlr.start + 8, hdlr.start + 12)) : '';
      if (timescale > 0) tracks.set(id, { timescale, handler });
    }
  }
  return tracks;
}

/**
 * moof+mdat -> { trackId, baseTime (in track timescale), duration (sum of
 * sample durations), keyframe } or null when it is not a fragment we know.
 */
export function parseFragment(bytes) {
  for (const moof of boxes(bytes)) {
    if (moof.type !== 'moof') continue;
    const traf = child(bytes, moof, 'traf');
    if (!traf) return null;
    let trackId = 0;
    let baseTime = 0;
    let duration = 0;
    let defaultDuration = 0;
    let keyframe = true;
    for (const b of boxes(bytes, traf.start, traf.end)) {
      const v = b.view;
      const flags = v.getUint32(b.start) & 0xffffff;
      if (b.type === 'tfhd') {
        trackId = v.getUint32(b.start + 4);
        let at = b.start + 8;
        if (flags & 0x01) at += 8;   // base_data_offset
        if (flags & 0x02) at += 4;   // sample_description_index
        if (flags & 0x08) defaultDuration = v.getUint32(at);
      } else if (b.type === 'tfdt') {
        baseTime = bytes[b.start] === 1
          ? v.getUint32(b.start + 4) * 2 ** 32 + v.getUint32(b.start + 8)
          : v.getUint32(b.start + 4);
      } else if (b.type === 'trun') {
        const count = v.getUint32(b.start + 4);
        let at = b.start + 8;
        if (flags & 0x001) at += 4;  // data_offset
        let firstFlags = null;
        if (flags & 0x004) { firstFlags = v.getUint32(at); at += 4; }
        const perSample = ((flags & 0x100) ? 4 : 0) + ((flags & 0x200) ? 4 : 0) + ((flags & 0x400) ? 4 : 0) + ((flags & 0x800) ? 4 : 0);
        for (let i = 0; i < count && at + perSample <= b.end; i++) {
          let p = at;
          duration += (flags & 0x100) ? v.getUint32(p) : defaultDuration;
          if (flags & 0x100) p += 4;
          if (flags & 0x200) p += 4;
          const sampleFlags = (flags & 0x400) ? v.getUint32(p) : (i === 0 ? firstFlags : null);
          if (i === 0 && sampleFlags !== null) keyframe = (sampleFlags & 0x10000) === 0;
          at += perSample;
        }
      }
    }
    return trackId ? { trackId, baseTime, duration, keyframe } : null;
  }
  return null;
}

/** The sample entry of a trak (first entry of its stsd), or null. */
function sampleEntry(bytes, trak) {
  let box = trak;
  for (const type of ['mdia', 'minf', 'stbl', 'stsd']) {
    box = child(bytes, box, type);
    if (!box) return null;
  }
  // stsd: version/flags (4) and entry_count (4), then the entries.
  for (const entry of boxes(bytes, box.start + 8, box.end)) return entry;
  return null;
}

/*
 * RFC 6381 codecs of an init segment, in track order: `avc1.PPCCLL` from the
 * avcC record (upper-case hex, as the hub's h264_codecs_string prints it),
 * `opus` for an Opus sample entry, the sample-entry fourcc otherwise.
 */
export function codecsFromInit(bytes) {
  const codecs = [];
  for (const moov of boxes(bytes)) {
    if (moov.type !== 'moov') continue;
    for (const trak of boxes(bytes, moov.start, moov.end)) {
      if (trak.type !== 'trak') continue;
      const entry = sampleEntry(bytes, trak);
      if (!entry) continue;
      if (entry.type === 'avc1' || entry.type === 'avc3') {
        // VisualSampleEntry fields take 78 bytes before the child boxes.
        const avcc = child(bytes, { start: entry.start + 78, end: entry.end }, 'avcC');
        if (!avcc || avcc.end - avcc.start < 4) continue;
        const hex = [1, 2, 3].map((i) => bytes[avcc.start + i].toString(16).padStart(2, '0').toUpperCase()).join('');
        codecs.push(`${entry.type}.${hex}`);
      } else if (entry.type === 'Opus') {
        codecs.push('opus');
      } else if (entry.type === 'mp4a') {
        codecs.push('mp4a.40.2');
      } else {
        codecs.push(entry.type);
      }
    }
  }
  return codecs;
}

/** The MIME type of an init segment, in the live view's "init" message form; null without tracks. */
export function mimeFromInit(bytes) {
  const codecs = codecsFromInit(bytes);
  return codecs.length ? `video/mp4; codecs="${codecs.join(', ')}"` : null;
}

/**
 * Cuts a byte stream (fetch() chunks) into whole top-level boxes:
 * push(chunk) returns [{ type, bytes }] for the boxes it completed. Throws on
 * a box larger than maxBytes or of unknown length (size 0), which a stream of
 * fragments never has.
 */
export class BoxSplitter {
  constructor(maxBytes = 64 << 20) {
    this.maxBytes = maxBytes;
    this.parts = [];            // chunks not cut yet
    this.size = 0;              // their bytes
    this.need = 8;              // bytes needed before the next box can be cut
  }

  push(chunk) {
    this.parts.push(chunk);
    this.size += chunk.byteLength;
    if (this.size < this.need) return [];   // a large mdat: copy it once, when whole
    const bytes = this.parts.length === 1 ? this.parts[0] : concat(this.parts);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = [];
    let at = 0;
    this.need = 8;
    while (at + 8 <= bytes.byteLength) {
      let size = view.getUint32(at);
      if (size === 1) {
        if (at + 16 > bytes.byteLength) { this.need = 16; break; }
        size = view.getUint32(at + 8) * 2 ** 32 + view.getUint32(at + 12);
      }
      if (size < 8 || size > this.maxBytes) throw new Error(`bad box size ${size}`);
      if (at + size > bytes.byteLength) { this.need = size; break; }
      const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
      out.push({ type, bytes: bytes.subarray(at, at + size) });
      at += size;
    }
    // Copy the tail: a subarray would pin the whole buffer until its box is complete.
    const rest = bytes.slice(at);
    this.parts = rest.byteLength ? [rest] : [];
    this.size = rest.byteLength;
    return out;
  }
}

/*
 * Codecs string case. The hub writes RFC 6381 strings: `avc1.42C01F` (upper-
 * case hex, as h264_codecs_string prints it) and `opus`. What browsers accept
 * in MediaSource.isTypeSupported / addSourceBuffer for MP4:
 *  - avc1: the sample-entry fourcc must be lowercase (Chromium 156 here says
 *    no to `AVC1.42C01F`); the six hex digits are read case-insensitively by
 *    Chromium (ParseAVCCodecId), Firefox (ExtractH264CodecDetails) and Safari,
 *    so `avc1.42C01F` = `avc1.42c01f`. We still try the given form, then
 *    lowercase, then uppercase hex, for stricter embedded WebViews.
 *  - Opus in MP4: Firefox wants lowercase `opus` and says no to `Opus` (gpac
 *    issue 1462); Safari 17+ (MediaSource and ManagedMediaSource) wants the
 *    sample-entry spelling `Opus` in audio/video mp4 and says no to `opus`
 *    there (while it wants `opus` in WebM) — shaka-player PR 6607; hls.js
 *    getCodecCompatibleName tries ['opus', 'Opus'] for the same reason.
 *    Chromium 156 (Debian) accepts both spellings.
 * So each codec gets a short list of spellings, and the first full MIME the
 * browser says yes to wins; null means this browser cannot play the stream
 * (the player then plays the video track alone when that is supported).
 */
function spellings(codec) {
  const c = codec.trim();
  const m = /^(avc[13])\.([0-9a-f]{6})$/i.exec(c);
  if (m) {
    const fourcc = m[1].toLowerCase();
    return [...new Set([`${fourcc}.${m[2]}`, `${fourcc}.${m[2].toLowerCase()}`, `${fourcc}.${m[2].toUpperCase()}`])];
  }
  if (/^opus$/i.test(c)) return ['opus', 'Opus'];
  if (/^flac$/i.test(c)) return ['flac', 'fLaC'];
  return [c];
}

/** The MIME type, respelled if needed so `MS.isTypeSupported` says yes; null if none works. */
export function supportedMime(mime, MS) {
  if (!MS || typeof MS.isTypeSupported !== 'function') return null;
  const m = /^([^;]+);\s*codecs\s*=\s*"?([^"]*)"?/i.exec(mime || '');
  if (!m) return MS.isTypeSupported(mime) ? mime : null;
  const container = m[1].trim();
  const lists = m[2].split(',').map(spellings);
  // Cartesian product; at most 3 x 2 candidates here.
  let combos = [[]];
  for (const list of lists) combos = combos.flatMap((prefix) => list.map((s) => [...prefix, s]));
  for (const combo of combos) {
    const candidate = `${container}; codecs="${combo.join(', ')}"`;
    if (MS.isTypeSupported(candidate)) return candidate;
  }
  return null;
}

/** A fresh Uint8Array holding all parts one after another. */
export function concat(parts) {
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return out;
}

/*
 * Video-only variant of an init segment: the moov without its sound tracks
 * (and their trex in mvex). While the player is muted it feeds MSE only the
 * video track, so the audio renderer neither sets the clock nor needs its
 * larger buffer (see latency.js); audio fragments are then simply skipped.
 */
export function videoOnlyInit(bytes) {
  const parts = [];
  for (const box of boxes(bytes)) {
    if (box.type !== 'moov') { parts.push(bytes.subarray(box.start - 8, box.end)); continue; }
    const keep = [];
    const kept = new Set();
    for (const b of boxes(bytes, box.start, box.end)) {
      if (b.type === 'trak') {
        const tracks = parseInit(wrap('moov', [bytes.subarray(b.start - 8, b.end)]));
        const [id, info] = [...tracks][0] || [];
        if (info && info.handler === 'soun') continue;
        if (id) kept.add(id);
      }
      keep.push(b);
    }
    const children = keep.map((b) => {
      if (b.type !== 'mvex') return bytes.subarray(b.start - 8, b.end);
      const inner = [];
      for (const e of boxes(bytes, b.start, b.end)) {
        if (e.type === 'trex' && !kept.has(e.view.getUint32(e.start + 4))) continue;
        inner.push(bytes.subarray(e.start - 8, e.end));
      }
      return wrap('mvex', inner);
    });
    parts.push(wrap('moov', children));
  }
  return concat(parts);
}

/** The MIME type without its audio codecs. */
export function videoOnlyMime(mime) {
  return mime.replace(/codecs\s*=\s*"([^"]*)"/i, (all, list) =>
    `codecs="${list.split(',').map((c) => c.trim()).filter((c) => !/^(opus|mp4a|flac|ac-3|ec-3)/i.test(c)).join(', ')}"`);
}

/** Whether the MIME type lists an audio codec. */
export function hasAudio(mime) {
  return videoOnlyMime(mime || '') !== (mime || '');
}

function wrap(type, children) {
  const body = concat(children);
  const out = new Uint8Array(8 + body.byteLength);
  new DataView(out.buffer).setUint32(0, out.byteLength);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  return out;
}

/**
 * The samples of a moof+mdat fragment (subarrays of bytes, in order): sizes
 * from the trun (the whole mdat as one sample when it gives none). The live
 * view's audio fragments hold one Opus packet each. [] when it is not a
 * fragment we know.
 */
export function fragmentSamples(bytes) {
  const sizes = [];
  let mdat = null;
  for (const box of boxes(bytes)) {
    if (box.type === 'mdat') { mdat = box; break; }
    if (box.type !== 'moof') continue;
    const traf = child(bytes, box, 'traf');
    const trun = traf && child(bytes, traf, 'trun');
    if (!trun) return [];
    const v = trun.view;
    const flags = v.getUint32(trun.start) & 0xffffff;
    const count = v.getUint32(trun.start + 4);
    let at = trun.start + 8;
    if (flags & 0x001) at += 4;
    if (flags & 0x004) at += 4;
    if (!(flags & 0x200)) continue;
    for (let i = 0; i < count && at + 4 <= trun.end; i++) {
      if (flags & 0x100) at += 4;
      sizes.push(v.getUint32(at));
      at += 4;
      if (flags & 0x400) at += 4;
      if (flags & 0x800) at += 4;
    }
  }
  if (!mdat) return [];
  if (!sizes.length) return mdat.end > mdat.start ? [bytes.subarray(mdat.start, mdat.end)] : [];
  const out = [];
  let at = mdat.start;
  for (const size of sizes) {
    if (size === 0 || at + size > mdat.end) break;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** Channel count of the first sound track's sample entry in an init segment; 0 without one. */
export function audioChannelsFromInit(bytes) {
  for (const moov of boxes(bytes)) {
    if (moov.type !== 'moov') continue;
    for (const trak of boxes(bytes, moov.start, moov.end)) {
      if (trak.type !== 'trak') continue;
      const entry = sampleEntry(bytes, trak);
      // AudioSampleEntry: 6 reserved, data_reference_index (2), 8 reserved, channelcount (2).
      if (entry && (entry.type === 'Opus' || entry.type === 'mp4a') && entry.end - entry.start >= 18) {
        return entry.view.getUint16(entry.start + 16);
      }
    }
  }
  return 0;
}
