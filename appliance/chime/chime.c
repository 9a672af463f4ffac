/*
 * chime.c - the hub's indoor chime (see chime.h).
 */
#define LOG_MODULE "chime"

#include "chime/chime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/audio_alsa.h"
#include "common/audio_chime.h"
#include "common/log.h"
#include "common/mutex.h"

#define CHIME_NAME_MAX 256

struct chime {
    pthread_mutex_t lock; /* guards pending, played, stopping */
    pthread_cond_t wake;
    int pending, stopping;
    unsigned long played;
    char device[CHIME_NAME_MAX];
    char alsa_config[CHIME_NAME_MAX]; /* "" = none */
    int16_t samples[AUDIO_CHIME_FRAMES];
    size_t frames;
    pthread_t thread;
};

/* Chime thread: open the device, play the ding-dong in real time, close.
 * 0, or -1 (logged). */
static int chime_play(struct chime *chime)
{
    struct audio_alsa_request request = {
        .device = chime->device,
        .alsa_config = chime->alsa_config[0] != '\0' ? chime->alsa_config : NULL,
        .stream = SND_PCM_STREAM_PLAYBACK,
        .channels = 1,
    };
    struct audio_alsa_setup setup;
    struct audio_pacer pacer;
    char error[256];
    size_t done = 0;
    int rc = -1;
    snd_pcm_t *pcm = audio_alsa_open(&request, &setup, error, sizeof(error));

    if (pcm == NULL) {
        log_warn("cannot open the chime output %s: %s", chime->device, error);
        return -1;
    }
    snd_pcm_nonblock(pcm, 0);
    /* A file device takes everything at once; keep it in real time all the same. */
    audio_pacer_start(&pacer, AUDIO_PACING_AUTO, setup.buffer_frames);
    while (done < chime->frames) {
        size_t chunk =
            chime->frames - done < AUDIO_FRAME_FRAMES ? chime->frames - done : AUDIO_FRAME_FRAMES;
        snd_pcm_sframes_t written = snd_pcm_writei(pcm, chime->samples + done, chunk);
        if (written < 0 && snd_pcm_recover(pcm, (int)written, 1) == 0)
            continue;
        if (written < 0) {
            log_warn("chime output %s: %s", chime->device, snd_strerror((int)written));
            goto out;
        }
        done += (size_t)written;
        audio_pacer_advance(&pacer, (uint64_t)written);
    }
    snd_pcm_drain(pcm);
    rc = 0;
out:
    snd_pcm_close(pcm);
    return rc;
}

static void *chime_thread(void *data)
{
    struct chime *chime = data;
    for (;;) {
        int ok;
        pthread_mutex_lock(&chime->lock);
        while (!chime->pending && !chime->stopping)
            pthread_cond_wait(&chime->wake, &chime->lock);
        if (chime->stopping) {
            pthread_mutex_unlock(&chime->lock);
            break;
        }
        chime->pending = 0;
        pthread_mutex_unlock(&chime->lock);
        ok = chime_play(chime) == 0;
        pthread_mutex_lock(&chime->lock);
        chime->played += ok;
        pthread_mutex_unlock(&chime->lock);
    }
    return NULL;
}

struct chime *chime_start(const char *device, const char *alsa_config)
{
    struct chime *chime;

    if (device == NULL || device[0] == '\0')
        return NULL;
    chime = calloc(1, sizeof(*chime));
    if (chime == NULL)
        return NULL;
    snprintf(chime->device, sizeof(chime->device), "%s", device);
    snprintf(chime->alsa_config, sizeof(chime->alsa_config), "%s",
             alsa_config != NULL ? alsa_config : "");
    chime->frames = audio_chime_generate(chime->samples, AUDIO_CHIME_FRAMES);
    mutex_init_checked(&chime->lock);
    pthread_cond_init(&chime->wake, NULL);
    if (pthread_create(&chime->thread, NULL, chime_thread, chime) != 0) {
        pthread_cond_destroy(&chime->wake);
        pthread_mutex_destroy(&chime->lock);
        free(chime);
        return NULL;
    }
    log_info("indoor chime on %s", chime->device);
    return chime;
}

void chime_ring(struct chime *chime)
{
    if (chime == NULL)
        return;
    pthread_mutex_lock(&chime->lock);
    chime->pending = 1;
    pthread_cond_signal(&chime->wake);
    pthread_mutex_unlock(&chime->lock);
}

unsigned long chime_played(struct chime *chime)
{
    unsigned long played;
    if (chime == NULL)
        return 0;
    pthread_mutex_lock(&chime->lock);
    played = chime->played;
    pthread_mutex_unlock(&chime->lock);
    return played;
}

void chime_stop(struct chime *chime)
{
    if (chime == NULL)
        return;
    pthread_mutex_lock(&chime->lock);
    chime->stopping = 1;
    pthread_cond_signal(&chime->wake);
    pthread_mutex_unlock(&chime->lock);
    pthread_join(chime->thread, NULL);
    pthread_cond_destroy(&chime->wake);
    pthread_mutex_destroy(&chime->lock);
    free(chime);
}
