/* The servers' open connections in order of activity (the host's KMS connections and the
 * /metrics server's): the idlest is the one to close when a newcomer needs room. */
#ifndef KMSLOAD_CONN_LIST_H
#define KMSLOAD_CONN_LIST_H

#include <stddef.h>

/* Embedded in a connection: its place in the list. */
struct conn_link {
    struct conn_link *newer, *older;
};

struct conn_list {
    struct conn_link *latest, *idlest; /* head and tail; NULL when empty */
    unsigned count;
};

/* The connection a link is embedded in. */
#define CONN_LIST_ENTRY(link, type, member) ((type *)((char *)(link)-offsetof(type, member)))

void conn_list_init(struct conn_list *list);
/* Adds a connection as the most recently active. */
void conn_list_add(struct conn_list *list, struct conn_link *link);
void conn_list_remove(struct conn_list *list, struct conn_link *link);
/* The connection just showed activity: it becomes the latest, the last to be closed for room. */
void conn_list_touch(struct conn_list *list, struct conn_link *link);

#endif
