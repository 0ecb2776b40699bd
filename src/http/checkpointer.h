/* The web server's WAL checkpointer (checkpointer.c): one thread with its own connection that
 * keeps checkpoints out of the writer's commits and the WAL bounded. */
#ifndef IOHEME_HTTP_CHECKPOINTER_H
#define IOHEME_HTTP_CHECKPOINTER_H

#include <stdio.h>

#include "base/err.h"

struct http_checkpointer;

/* When to checkpoint. Zero fields take the defaults in checkpointer.c. */
struct http_ckpt_policy {
    int tick_ms;            /* a PASSIVE checkpoint this often (default 250: about as often
                               as SQLite's own 1000 pages at ~1000 saves/s, fewer fsyncs
                               of the database file competing with the WAL's) */
    int idle_ticks;         /* TRUNCATE after this many ticks without a commit (default 4) */
    long long bound_frames; /* RESTART when the WAL holds more frames than this (default 4096,
                               16 MiB at 4 KiB pages, 64 MiB at the 16 KiB of new databases) */
    int wait_ms;            /* how long RESTART/TRUNCATE wait for readers and the writer,
                               holding off new commits meanwhile (default 50) */
};

/* What it has done so far. */
struct http_ckpt_stats {
    unsigned long passive, restart, truncate; /* checkpoints run, by mode */
    unsigned long restart_gave_up;            /* RESTART/TRUNCATE that stopped waiting */
    long long max_wal_frames;                 /* the most frames seen in the WAL */
};

/* Opens a connection of its own to db_path and starts the thread. policy may be NULL
 * (defaults). Errors are written to log (one line when checkpoints start failing). Stop with
 * http_checkpointer_stop. */
int http_checkpointer_start(const char *db_path, const struct http_ckpt_policy *policy, FILE *log,
                            struct http_checkpointer **out, struct err *e);

/* A copy of the counters, taken under the thread's lock. */
void http_checkpointer_stats(struct http_checkpointer *c, struct http_ckpt_stats *out);

/* Stops the thread (waking it from its wait), closes its connection, frees c (may be NULL);
 * stats (may be NULL) gets the final counters. */
void http_checkpointer_stop(struct http_checkpointer *c, struct http_ckpt_stats *stats);

#endif
