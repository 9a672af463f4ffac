/*
 * mp4_scan_init.c - the init segment half of the MP4 scanner (see
 * mp4_scan.h and mp4_scan.c for the rules every parser here follows): ftyp,
 * and moov with its tracks (tkhd/mdhd/hdlr, the first stsd entry with avcC
 * or dOps) and mvex/trex defaults.
 *
 * Threads: no shared state; any thread, one scan at a time per scanner.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recording/mp4_box.h"
#include "recording/mp4_scan_internal.h"

/* ftyp (4.3): major brand, minor version, compatible brands. */
int mp4_parse_ftyp(struct mp4_scanner *scanner, const struct mp4_header *box)
{
    if (box->offset != 0)
        return mp4_stop(scanner, "ftyp at %" PRIu64 " is not the first box", box->offset);
    if (box->size - box->header_size > MP4_SCAN_MAX_FTYP || box->size - box->header_size < 8)
        return mp4_stop(scanner, "ftyp of %" PRIu64 " bytes", box->size);
    const uint8_t *body;
    size_t size;
    int step = mp4_read_body(scanner, box, &body, &size);
    if (step != MP4_OK)
        return step;
    mp4_box_fourcc(scanner->result->major_brand, body);
    scanner->have_ftyp = true;
    return MP4_OK;
}

/* avcC (14496-15 5.3.3.1): the first SPS and PPS, and the SPS parsed. */
static int mp4_parse_avcc(struct mp4_scanner *scanner, const struct mp4_box_child *avcc,
                          struct mp4_scan_track *track)
{
    struct mp4_box_cursor cursor = mp4_box_cursor(avcc->body, avcc->size);
    if (mp4_box_u8(&cursor) != 1)
        return mp4_stop(scanner, "avcC version is not 1");
    mp4_box_skip(&cursor, 4); /* profile, compatibility, level, length size */
    for (int set = 0; set < 2; set++) {
        uint32_t count = mp4_box_u8(&cursor) & (set == 0 ? 0x1F : 0xFF);
        if (!cursor.ok)
            break;
        if (count == 0)
            return mp4_stop(scanner, "avcC without %s", set == 0 ? "SPS" : "PPS");
        for (uint32_t i = 0; i < count; i++) {
            uint32_t length = mp4_box_u16(&cursor);
            size_t start = cursor.at;
            mp4_box_skip(&cursor, length);
            if (!cursor.ok)
                break;
            if (i > 0)
                continue;
            if (length < 1 || length > H264_MAX_PARAMETER_SET)
                return mp4_stop(scanner, "avcC parameter set of %" PRIu32 " bytes", length);
            memcpy(set == 0 ? track->sps : track->pps, avcc->body + start, length);
            *(set == 0 ? &track->sps_size : &track->pps_size) = length;
        }
    }
    if (!cursor.ok)
        return mp4_stop(scanner, "avcC cut short");
    if (h264_parse_sps(track->sps, track->sps_size, &track->sps_info, NULL, 0) == 0) {
        track->sps_parsed = 1;
        track->width = track->sps_info.width;
        track->height = track->sps_info.height;
    }
    return MP4_OK;
}

/* dOps (Opus in ISOBMFF 4.3.2): version 0, channels, pre-skip, rate. */
static int mp4_parse_dops(struct mp4_scanner *scanner, const struct mp4_box_child *dops,
                          struct mp4_scan_track *track)
{
    struct mp4_box_cursor cursor = mp4_box_cursor(dops->body, dops->size);
    uint32_t version = mp4_box_u8(&cursor);
    track->channels = (int)mp4_box_u8(&cursor);
    track->pre_skip = (int)mp4_box_u16(&cursor);
    track->input_sample_rate = mp4_box_u32(&cursor);
    mp4_box_skip(&cursor, 3); /* OutputGain, ChannelMappingFamily */
    if (!cursor.ok || version != 0 || track->channels == 0)
        return mp4_stop(scanner, "bad dOps");
    return MP4_OK;
}

/* stsd (8.5.2): the first sample entry, and its avcC or dOps. */
static int mp4_parse_stsd(struct mp4_scanner *scanner, const struct mp4_box_child *stsd,
                          struct mp4_scan_track *track)
{
    struct mp4_box_cursor cursor = mp4_box_cursor(stsd->body, stsd->size);
    mp4_box_skip(&cursor, 4); /* version, flags */
    uint32_t entries = mp4_box_u32(&cursor);
    size_t at = cursor.at;
    struct mp4_box_child entry, child;
    if (!cursor.ok || entries == 0 || mp4_box_next_child(stsd->body, stsd->size, &at, &entry) != 1)
        return mp4_stop(scanner, "stsd without a sample entry");
    memcpy(track->sample_entry, entry.type, sizeof(track->sample_entry));
    bool video = strcmp(entry.type, "avc1") == 0 || strcmp(entry.type, "avc3") == 0;
    bool opus = strcmp(entry.type, "Opus") == 0;
    if (!video && !opus)
        return MP4_OK;               /* a codec we do not look into */
    size_t fields = video ? 78 : 28; /* Visual/AudioSampleEntry fields (12.1.3, 12.2.3) */
    if (entry.size < fields)
        return mp4_stop(scanner, "%s sample entry cut short", entry.type);
    if (video) {
        cursor = mp4_box_cursor(entry.body, entry.size);
        mp4_box_skip(&cursor, 24);
        track->width = (int)mp4_box_u16(&cursor);
        track->height = (int)mp4_box_u16(&cursor);
    }
    at = fields;
    int found;
    while ((found = mp4_box_next_child(entry.body, entry.size, &at, &child)) == 1) {
        if (video && strcmp(child.type, "avcC") == 0)
            return mp4_parse_avcc(scanner, &child, track);
        if (opus && strcmp(child.type, "dOps") == 0)
            return mp4_parse_dops(scanner, &child, track);
    }
    if (found < 0)
        return mp4_stop(scanner, "malformed box in %s", entry.type);
    return mp4_stop(scanner, "%s without %s", entry.type, video ? "avcC" : "dOps");
}

/* trak (8.3.1): tkhd track_ID, mdia/mdhd timescale, mdia/hdlr handler,
 * mdia/minf/stbl/stsd sample entry. */
static int mp4_parse_trak(struct mp4_scanner *scanner, const struct mp4_box_child *trak,
                          struct mp4_scan_track *track)
{
    struct mp4_box_child tkhd, mdia, mdhd, hdlr, minf, stbl, stsd;
    memset(track, 0, sizeof(*track));
    if (mp4_box_find_child(trak->body, trak->size, "tkhd", &tkhd) != 1 ||
        mp4_box_find_child(trak->body, trak->size, "mdia", &mdia) != 1 ||
        mp4_box_find_child(mdia.body, mdia.size, "mdhd", &mdhd) != 1 ||
        mp4_box_find_child(mdia.body, mdia.size, "hdlr", &hdlr) != 1 ||
        mp4_box_find_child(mdia.body, mdia.size, "minf", &minf) != 1 ||
        mp4_box_find_child(minf.body, minf.size, "stbl", &stbl) != 1 ||
        mp4_box_find_child(stbl.body, stbl.size, "stsd", &stsd) != 1)
        return mp4_stop(scanner, "trak lacks tkhd, mdhd, hdlr or stsd");

    struct mp4_box_cursor cursor = mp4_box_cursor(tkhd.body, tkhd.size); /* 8.3.2 */
    uint32_t version = mp4_box_u8(&cursor);
    mp4_box_skip(&cursor, 3 + (version == 1 ? 16 : 8));
    track->track_id = mp4_box_u32(&cursor);
    if (!cursor.ok || version > 1 || track->track_id == 0)
        return mp4_stop(scanner, "bad tkhd");

    cursor = mp4_box_cursor(mdhd.body, mdhd.size); /* 8.4.2 */
    version = mp4_box_u8(&cursor);
    mp4_box_skip(&cursor, 3 + (version == 1 ? 16 : 8));
    track->timescale = mp4_box_u32(&cursor);
    if (!cursor.ok || version > 1 || track->timescale == 0)
        return mp4_stop(scanner, "bad mdhd in track %" PRIu32, track->track_id);

    cursor = mp4_box_cursor(hdlr.body, hdlr.size); /* 8.4.3 */
    mp4_box_skip(&cursor, 8);
    mp4_box_skip(&cursor, 4);
    if (!cursor.ok)
        return mp4_stop(scanner, "bad hdlr in track %" PRIu32, track->track_id);
    mp4_box_fourcc(track->handler, hdlr.body + 8);
    return mp4_parse_stsd(scanner, &stsd, track);
}

/* mvex/trex (8.8.3): per-track sample defaults. */
static int mp4_parse_mvex(struct mp4_scanner *scanner, const struct mp4_box_child *mvex)
{
    struct mp4_scan_result *result = scanner->result;
    struct mp4_box_child trex;
    size_t at = 0;
    int found;
    while ((found = mp4_box_next_child(mvex->body, mvex->size, &at, &trex)) == 1) {
        if (strcmp(trex.type, "trex") != 0)
            continue;
        struct mp4_box_cursor cursor = mp4_box_cursor(trex.body, trex.size);
        mp4_box_skip(&cursor, 4); /* version, flags */
        uint32_t track_id = mp4_box_u32(&cursor);
        mp4_box_skip(&cursor, 4); /* default_sample_description_index */
        uint32_t duration = mp4_box_u32(&cursor);
        uint32_t size = mp4_box_u32(&cursor);
        uint32_t flags = mp4_box_u32(&cursor);
        if (!cursor.ok)
            return mp4_stop(scanner, "trex cut short");
        int index = mp4_track_index(result, track_id);
        struct mp4_scan_track *track = index >= 0 ? &result->tracks[index] : NULL;
        if (track == NULL || track->has_trex)
            return mp4_stop(scanner, "trex for unknown or repeated track %" PRIu32, track_id);
        track->has_trex = 1;
        track->default_duration = duration;
        track->default_size = size;
        track->default_flags = flags;
    }
    return found < 0 ? mp4_stop(scanner, "malformed box in mvex") : MP4_OK;
}

/* moov (8.2.1): its tracks, then mvex (which may come in any order). */
int mp4_parse_moov(struct mp4_scanner *scanner, const struct mp4_header *box)
{
    struct mp4_scan_result *result = scanner->result;
    if (!scanner->have_ftyp)
        return mp4_stop(scanner, "moov before ftyp");
    if (box->size - box->header_size > MP4_SCAN_MAX_MOOV)
        return mp4_stop(scanner, "moov of %" PRIu64 " bytes", box->size);
    const uint8_t *body;
    size_t size;
    int step = mp4_read_body(scanner, box, &body, &size);
    if (step != MP4_OK)
        return step;

    struct mp4_box_child child, mvex = {.body = NULL};
    size_t at = 0;
    int found;
    while ((found = mp4_box_next_child(body, size, &at, &child)) == 1) {
        if (strcmp(child.type, "mvex") == 0 && mvex.body == NULL)
            mvex = child;
        if (strcmp(child.type, "trak") != 0)
            continue;
        if (result->track_count == MP4_SCAN_MAX_TRACKS)
            return mp4_stop(scanner, "more than %d tracks", MP4_SCAN_MAX_TRACKS);
        struct mp4_scan_track *track = &result->tracks[result->track_count];
        step = mp4_parse_trak(scanner, &child, track);
        if (step != MP4_OK)
            return step;
        for (int i = 0; i < result->track_count; i++)
            if (result->tracks[i].track_id == track->track_id)
                return mp4_stop(scanner, "track %" PRIu32 " twice", track->track_id);
        result->track_count++;
    }
    if (found < 0)
        return mp4_stop(scanner, "malformed box in moov");
    if (result->track_count == 0)
        return mp4_stop(scanner, "moov without tracks");
    if (mvex.body != NULL && (step = mp4_parse_mvex(scanner, &mvex)) != MP4_OK)
        return step;
    scanner->have_moov = true;
    result->init_length = box->offset + box->size;
    result->valid_length = result->init_length;
    return MP4_OK;
}
