#include "conn_list.h"

void conn_list_init(struct conn_list *list)
{
    list->latest = list->idlest = NULL;
    list->count = 0;
}

void conn_list_add(struct conn_list *list, struct conn_link *link)
{
    link->newer = NULL;
    link->older = list->latest;
    if (list->latest)
        list->latest->newer = link;
    else
        list->idlest = link;
    list->latest = link;
    list->count++;
}

void conn_list_remove(struct conn_list *list, struct conn_link *link)
{
    if (link->newer)
        link->newer->older = link->older;
    else
        list->latest = link->older;
    if (link->older)
        link->older->newer = link->newer;
    else
        list->idlest = link->newer;
    link->newer = link->older = NULL;
    list->count--;
}

void conn_list_touch(struct conn_list *list, struct conn_link *link)
{
    if (list->latest != link) {
        conn_list_remove(list, link);
        conn_list_add(list, link);
    }
}
