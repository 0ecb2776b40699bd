/* The store's timestamps ("2026-11-27T02:45:12.345Z", UTC with milliseconds) for code above
 * the store that needs to compute with them (the web dashboard's due dates). */
#ifndef IOHEME_STORE_TIMESTAMP_H
#define IOHEME_STORE_TIMESTAMP_H

/* Milliseconds since the epoch of a store timestamp; -1 when s is NULL or malformed. */
long long store_timestamp_ms(const char *s);

#endif
