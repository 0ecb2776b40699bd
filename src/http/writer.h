/* Group commit for the web server's writes (writer.c): state-changing handlers run on one
 * writer thread and connection, batched into shared commits. */
#ifndef IOHEME_HTTP_WRITER_H
#define IOHEME_HTTP_WRITER_H

#include "http/http_int.h"

struct http_writer;

/* Starts the writer thread on st, which it uses exclusively until http_writer_stop (the caller
 * keeps ownership and closes st after stopping). park and unpark (NULL: none) suspend and resume
 * a request's connection (server.c). */
int http_writer_start(struct store *st, http_park_fn park, http_park_fn unpark,
                      struct http_writer **out, struct err *e);

/* Runs fn(r) on the writer thread, with r->st set to the writer's connection, inside a batch
 * committed together with the other writes queued meanwhile. If the batch cannot begin or
 * commit, fail(r, e) replaces the response instead. A request with a connection (r->conn) is
 * parked: the call returns at once with r->parked set, and after the commit r->write_done is set
 * and the connection resumed, its handler running again to send the answer. Otherwise the call
 * returns after the commit. */
void http_writer_run(struct http_writer *w, struct req *r, void (*fn)(struct req *r),
                     void (*fail)(struct req *r, const struct err *e));

/* Before the server stops taking requests: no more parking (later writes wait on their worker),
 * and returns once every parked write has committed and been resumed. */
void http_writer_quiesce(struct http_writer *w);

/* Finishes the queued writes, stops the thread, frees w (may be NULL); reports how many
 * batches and writes it committed. */
void http_writer_stop(struct http_writer *w, unsigned long *batches, unsigned long *jobs);

#endif
