/* store_timestamp_ms: the store's own parser (store.c's store_ts_parse), for callers above it. */
#include "store/timestamp.h"

#include "store/store_int.h"

long long store_timestamp_ms(const char *s)
{
    return store_ts_parse(s);
}
