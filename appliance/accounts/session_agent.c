/*
 * session_agent.c - a readable "browser on system" for a session's
 * User-Agent header (see session_describe_agent in sessions.h). A simple
 * look for well-known tokens, not a full parser: it is for the user to
 * recognise their own devices, and is never used for a decision.
 *
 * Pure function; any thread.
 */
#include <stdio.h>
#include <string.h>

#include "accounts/sessions.h"

struct session_agent_name {
    const char *token; /* found anywhere in the header */
    const char *name;
};

/* First match wins: Edge and Opera also say Chrome and Safari, Chrome says
 * Safari, Android says Linux, iOS says "like Mac OS X". */
static const struct session_agent_name session_agent_browsers[] = {
    {"Edg", "Edge"},      {"OPR/", "Opera"},   {"Opera", "Opera"},    {"Firefox/", "Firefox"},
    {"FxiOS", "Firefox"}, {"CriOS", "Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
    {"curl/", "curl"},    {"node", "Node.js"},
};

static const struct session_agent_name session_agent_systems[] = {
    {"Android", "Android"}, {"iPhone", "iOS"},      {"iPad", "iPadOS"},    {"CrOS", "ChromeOS"},
    {"Windows", "Windows"}, {"Macintosh", "macOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
};

/* The name of the first entry of table whose token is in text, or NULL. */
static const char *session_agent_find(const char *text, const struct session_agent_name *table,
                                      size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strstr(text, table[i].token) != NULL)
            return table[i].name;
    return NULL;
}

void session_describe_agent(const char *user_agent, char *out, size_t size)
{
    const char *browser, *system;

    if (size == 0)
        return;
    if (user_agent == NULL)
        user_agent = "";
    browser =
        session_agent_find(user_agent, session_agent_browsers,
                           sizeof(session_agent_browsers) / sizeof(session_agent_browsers[0]));
    system = session_agent_find(user_agent, session_agent_systems,
                                sizeof(session_agent_systems) / sizeof(session_agent_systems[0]));
    if (browser != NULL && system != NULL)
        snprintf(out, size, "%s on %s", browser, system);
    else if (browser != NULL || system != NULL)
        snprintf(out, size, "%s", browser != NULL ? browser : system);
    else
        snprintf(out, size, "Unknown device");
}
