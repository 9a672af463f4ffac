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

#define CHIME_NAME_MAX 4096

struct chime {
    pthread_mutex_t lock; /* guards pending, played, stopping, the settings, last_test_ms */
    pthread_cond_t wake;
    int pending, stopping;
    unsigned long played;
    int enabled, volume;
    char device[CHIME_DEVICE_MAX];
    int64_t last_test_ms;
    /* Constant after start. */
    char alsa_config[CHIME_NAME_MAX]; /* "" = none */
    int16_t samples[AUDIO_CHIME_FRAMES];
    size_t frames;
    /* The chime thread's own. */
    int16_t scaled[AUDIO_CHIME_FRAMES];
    pthread_t thread;
};

/* Chime thread: open device, play the ding-dong at volume (percent) in
 * real time, close. 0, or -1 (logged). */
static int chime_play(struct chime *chime, const char *device, int volume)
{
    struct audio_alsa_request request = {
        .device = device,
        .alsa_config = chime->alsa_config[0] != '\0' ? chime->alsa_config : NULL,
        .stream = SND_PCM_STREAM_PLAYBACK,
        .channels = 1,
    };
    struct audio_alsa_setup setup;
    struct audio_pacer pacer;
    char error[256];
    size_t done = 0;
    int rc = -1;
    snd_pcm_t *pcm;

    for (size_t i = 0; i < chime->frames; i++)
        chime->scaled[i] = (int16_t)(chime->samples[i] * volume / 100);
    pcm = audio_alsa_open(&request, &setup, error, sizeof(error));
    if (pcm == NULL) {
        log_warn("cannot open the chime output %s: %s", device, error);
        return -1;
    }
    snd_pcm_nonblock(pcm, 0);
    /* A file device takes everything at once; keep it in real time all the same. */
    audio_pacer_start(&pacer, AUDIO_PACING_AUTO, setup.buffer_frames);
    while (done < chime->frames) {
        size_t chunk =
            chime->frames - done < AUDIO_FRAME_FRAMES ? chime->frames - done : AUDIO_FRAME_FRAMES;
        snd_pcm_sframes_t written = snd_pcm_writei(pcm, chime->scaled + done, chunk);
        if (written < 0 && snd_pcm_recover(pcm, (int)written, 1) == 0)
            continue;
        if (written < 0) {
            log_warn("chime output %s: %s", device, snd_strerror((int)written));
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
    pthread_setname_np(pthread_self(), "chime");
    for (;;) {
        char device[CHIME_DEVICE_MAX];
        int ok, volume;
        pthread_mutex_lock(&chime->lock);
        while (!chime->pending && !chime->stopping)
            pthread_cond_wait(&chime->wake, &chime->lock);
        if (chime->stopping) {
            pthread_mutex_unlock(&chime->lock);
            break;
        }
        chime->pending = 0;
        snprintf(device, sizeof(device), "%s", chime->device);
        volume = chime->volume;
        pthread_mutex_unlock(&chime->lock);
        ok = chime_play(chime, device, volume) == 0;
        pthread_mutex_lock(&chime->lock);
        chime->played += ok;
        pthread_mutex_unlock(&chime->lock);
    }
    return NULL;
}

struct chime *chime_start(const char *alsa_config)
{
    struct chime *chime = calloc(1, sizeof(*chime));

    if (chime == NULL)
        return NULL;
    snprintf(chime->device, sizeof(chime->device), "default");
    chime->volume = 100;
    chime->last_test_ms = INT64_MIN / 2;
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
    return chime;
}

void chime_configure(struct chime *chime, int enabled, const char *device, int volume)
{
    if (chime == NULL)
        return;
    pthread_mutex_lock(&chime->lock);
    chime->enabled = enabled;
    snprintf(chime->device, sizeof(chime->device), "%s", device);
    chime->volume = volume < 0 ? 0 : volume > 100 ? 100 : volume;
    pthread_mutex_unlock(&chime->lock);
    if (enabled)
        log_info("indoor chime on %s at %d %%", device, volume);
    else
        log_info("indoor chime off");
}

void chime_ring(struct chime *chime)
{
    if (chime == NULL)
        return;
    pthread_mutex_lock(&chime->lock);
    if (chime->enabled) {
        chime->pending = 1;
        pthread_cond_signal(&chime->wake);
    }
    pthread_mutex_unlock(&chime->lock);
}

int chime_test(struct chime *chime, int64_t now_ms)
{
    int rc = -1;
    if (chime == NULL)
        return -1;
    pthread_mutex_lock(&chime->lock);
    if (now_ms - chime->last_test_ms >= CHIME_TEST_INTERVAL_MS) {
        chime->last_test_ms = now_ms;
        chime->pending = 1;
        pthread_cond_signal(&chime->wake);
        rc = 0;
    }
    pthread_mutex_unlock(&chime->lock);
    return rc;
}

int chime_list_outputs(void (*callback)(const char *name, const char *description, void *context),
                       void *context)
{
    void **hints = NULL;
    int count = 0;

    if (snd_device_name_hint(-1, "pcm", &hints) != 0)
        return -1;
    for (void **hint = hints; *hint != NULL; hint++) {
        char *name = snd_device_name_get_hint(*hint, "NAME");
        char *description = snd_device_name_get_hint(*hint, "DESC");
        char *direction = snd_device_name_get_hint(*hint, "IOID");
        /* No IOID: both directions. */
        if (name != NULL && (direction == NULL || strcmp(direction, "Output") == 0)) {
            char *newline = description != NULL ? strchr(description, '\n') : NULL;
            if (newline != NULL)
                *newline = '\0'; /* the first line says it */
            callback(name, description != NULL ? description : "", context);
            count++;
        }
        free(name);
        free(description);
        free(direction);
    }
    snd_device_name_free_hint(hints);
    return count;
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
