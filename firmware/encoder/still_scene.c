/*
 * still_scene.c - the still-scene rule (see still_scene.h).
 *
 * Thread: the capture thread owns each struct still_scene; nothing here
 * allocates or locks.
 */
#include "encoder/still_scene.h"

void still_scene_init(struct still_scene *scene, int still_after_s, int percent)
{
    scene->still_after_us = (int64_t)still_after_s * 1000000;
    scene->percent = percent < 0 ? 0 : percent > 100 ? 100 : percent;
    scene->still = 0;
}

int still_scene_update(struct still_scene *scene, int64_t now_us, int64_t last_activity_us)
{
    int still = scene->percent > 0 && scene->percent < 100 &&
                now_us - last_activity_us >= scene->still_after_us;

    if (still == scene->still)
        return 0;
    scene->still = still;
    return still ? -1 : 1;
}

int still_scene_bitrate(const struct still_scene *scene, int full_kbps)
{
    int kbps;

    if (!scene->still)
        return full_kbps;
    kbps = (int)((int64_t)full_kbps * scene->percent / 100);
    return kbps < STILL_SCENE_MIN_KBPS ? STILL_SCENE_MIN_KBPS : kbps;
}
