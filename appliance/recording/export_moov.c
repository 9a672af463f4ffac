/*
 * export_moov.c - the head of an exported MP4 (see export.c and
 * export_plan.h): ftyp, a moov whose sample tables are those the plan built
 * (with an edit list per track so the file presents exactly the requested
 * range), and the mdat header. Section numbers refer to ISO/IEC
 * 14496-12:2015. Threads: the caller's; writes only plan->head.
 */
#include <errno.h>
#include <stdint.h>

#include "media/fmp4.h"
#include "recording/export_plan.h"

/* One edit list entry, version 0 or 1 (8.6.6.2); media_time -1 is empty. */
static void export_write_edit(struct byte_buffer *out, int version, uint64_t duration_ms,
                              int64_t media_time)
{
    if (version == 1) {
        fmp4_u64(out, duration_ms);
        fmp4_u64(out, (uint64_t)media_time);
    } else {
        fmp4_u32(out, (uint32_t)duration_ms);
        fmp4_u32(out, (uint32_t)(int32_t)media_time);
    }
    fmp4_u16(out, 1); /* media_rate_integer */
    fmp4_u16(out, 0); /* media_rate_fraction */
}

/* A table box: full box, entry count, then the entries built while planning. */
static void export_write_table(struct byte_buffer *out, const char type[4], uint32_t count,
                               const struct byte_buffer *entries)
{
    size_t box = fmp4_full_box(out, type, 0, 0);
    fmp4_u32(out, count);
    fmp4_put(out, byte_buffer_data(entries), byte_buffer_length(entries));
    fmp4_box_end(out, box);
}

/* The sample tables (8.5, 8.6, 8.7) of one track; chunk offsets count from
 * payload_start, where the mdat's contents begin. */
static void export_write_stbl(const struct export_plan *plan, int kind, struct byte_buffer *out,
                              int co64, uint64_t payload_start)
{
    const struct export_track *track = &plan->tracks[kind];
    size_t stbl = fmp4_box(out, "stbl");
    size_t stsd = fmp4_full_box(out, "stsd", 0, 0);
    fmp4_u32(out, (uint32_t)track->entry_count);
    for (int i = 0; i < track->entry_count; i++) {
        struct fmp4_video_config video = export_video_config(&track->entries[i]);
        struct fmp4_audio_config audio = export_audio_config(&track->entries[i]);
        if (kind == EXPORT_VIDEO)
            fmp4_write_video_entry(out, &video); /* checked by export_entry() */
        else
            fmp4_write_audio_entry(out, &audio);
    }
    fmp4_box_end(out, stsd);
    export_write_table(out, "stts", track->stts_count, &track->stts);
    if (kind == EXPORT_VIDEO) /* without stss every sample is a sync sample, as Opus's are */
        export_write_table(out, "stss", track->stss_count, &track->stss);
    export_write_table(out, "stsc", track->stsc_count, &track->stsc);
    size_t stsz = fmp4_full_box(out, "stsz", 0, 0);
    fmp4_u32(out, 0); /* sample_size: they differ */
    fmp4_u32(out, track->samples);
    fmp4_put(out, byte_buffer_data(&track->stsz), byte_buffer_length(&track->stsz));
    fmp4_box_end(out, stsz);
    size_t offsets = fmp4_full_box(out, co64 ? "co64" : "stco", 0, 0);
    fmp4_u32(out, track->chunks);
    uint64_t at = payload_start;
    for (size_t i = 0; i < plan->chunk_count; i++) {
        if (plan->chunks[i].track == (uint32_t)kind && co64)
            fmp4_u64(out, at);
        else if (plan->chunks[i].track == (uint32_t)kind)
            fmp4_u32(out, (uint32_t)at);
        at += plan->chunks[i].size;
    }
    fmp4_box_end(out, offsets);
    fmp4_box_end(out, stbl);
}

/* One trak (8.3.1): tkhd, edts, mdia with the track's tables. */
static void export_write_trak(const struct export_plan *plan, int kind, struct byte_buffer *out,
                              int co64, uint64_t payload_start)
{
    const struct export_track *track = &plan->tracks[kind];
    int video = kind == EXPORT_VIDEO;
    int version = track->media_time > INT32_MAX ? 1 : 0;
    size_t trak = fmp4_box(out, "trak");
    fmp4_tkhd(out, track->track_id, (uint32_t)(track->empty_ms + track->edit_ms),
              video ? 0 : 0x0100, video ? (uint32_t)track->entries[0].width : 0,
              video ? (uint32_t)track->entries[0].height : 0);
    size_t edts = fmp4_box(out, "edts");
    size_t elst = fmp4_full_box(out, "elst", (uint32_t)version, 0);
    fmp4_u32(out, track->empty_ms > 0 ? 2 : 1);
    if (track->empty_ms > 0)
        export_write_edit(out, version, (uint64_t)track->empty_ms, -1);
    export_write_edit(out, version, (uint64_t)track->edit_ms, (int64_t)track->media_time);
    fmp4_box_end(out, elst);
    fmp4_box_end(out, edts);
    size_t mdia = fmp4_box(out, "mdia");
    fmp4_mdhd(out, track->timescale, track->time);
    fmp4_hdlr(out, video ? "vide" : "soun", video ? "VideoHandler" : "SoundHandler");
    size_t minf = fmp4_box(out, "minf");
    fmp4_media_header(out, video);
    fmp4_dinf(out);
    export_write_stbl(plan, kind, out, co64, payload_start);
    fmp4_box_end(out, minf);
    fmp4_box_end(out, mdia);
    fmp4_box_end(out, trak);
}

/* ftyp (4.3), moov (8.2.1) and the mdat header (8.1.1; a 64-bit size when
 * it needs one). */
static void export_write_head(const struct export_plan *plan, struct byte_buffer *out, int co64,
                              uint64_t payload_start)
{
    size_t ftyp = fmp4_box(out, "ftyp");
    fmp4_put(out, "isom", 4);              /* major_brand */
    fmp4_u32(out, 0x200);                  /* minor_version */
    fmp4_put(out, "isomiso2avc1mp41", 16); /* iso2 for Opus (Opus in ISOBMFF 4.1) */
    fmp4_box_end(out, ftyp);
    size_t moov = fmp4_box(out, "moov");
    fmp4_mvhd(out, (uint32_t)(plan->to_ms - plan->from_ms));
    for (int kind = 0; kind < EXPORT_TRACKS; kind++)
        if (plan->tracks[kind].present)
            export_write_trak(plan, kind, out, co64, payload_start);
    fmp4_box_end(out, moov);
    if (plan->payload <= UINT32_MAX - 8u) {
        fmp4_u32(out, (uint32_t)(plan->payload + 8));
        fmp4_put(out, "mdat", 4);
    } else {
        fmp4_u32(out, 1);
        fmp4_put(out, "mdat", 4);
        fmp4_u64(out, plan->payload + 16);
    }
}

/* 0 while buffer holds everything written to it, else -1 with the
 * reason: E2BIG past its cap, ENOMEM. */
static int export_buffer_failed(struct export_plan *plan, const struct byte_buffer *buffer)
{
    switch (byte_buffer_error(buffer)) {
    case BYTE_BUFFER_OK:
        return 0;
    case BYTE_BUFFER_TOO_BIG:
        return export_fail(plan, E2BIG, "the MP4 index of the range is too big");
    default:
        return export_fail(plan, ENOMEM, "out of memory");
    }
}

/* Build the head: once to learn its size (and whether 32-bit chunk offsets
 * reach the end of the file), then with the offsets where the mdat is. */
int export_build_head(struct export_plan *plan)
{
    int co64 = 0;
    for (int kind = 0; kind < EXPORT_TRACKS; kind++) {
        const struct export_track *track = &plan->tracks[kind];
        const struct byte_buffer *tables[] = {&track->stts, &track->stss, &track->stsc,
                                              &track->stsz};
        for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
            if (export_buffer_failed(plan, tables[i]) != 0)
                return -1;
    }
    export_write_head(plan, &plan->head, co64, 0);
    if (byte_buffer_length(&plan->head) + plan->payload > UINT32_MAX) {
        co64 = 1;
        byte_buffer_reset(&plan->head);
        export_write_head(plan, &plan->head, co64, 0);
    }
    size_t size = byte_buffer_length(&plan->head);
    byte_buffer_reset(&plan->head);
    export_write_head(plan, &plan->head, co64, size);
    return export_buffer_failed(plan, &plan->head);
    return 0;
}
