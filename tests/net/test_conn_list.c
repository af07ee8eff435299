/*
 * The servers' connection list: additions become the latest, a touch moves a connection to the
 * front, the idlest is the one least recently added or touched, removal from the head, the
 * middle and the tail keeps both directions linked, and the count follows.
 */
#include "conn_list.h"

#include <criterion/criterion.h>

struct item {
    int id;
    struct conn_link link;
};

/* The ids from the idlest to the latest, walking newer; checks the walk back agrees. */
static void expect_order(const struct conn_list *list, const int *ids, unsigned n)
{
    cr_assert_eq(list->count, n);
    unsigned i = 0;
    for (struct conn_link *l = list->idlest; l; l = l->newer, i++) {
        cr_assert_lt(i, n);
        cr_assert_eq(CONN_LIST_ENTRY(l, struct item, link)->id, ids[i]);
    }
    cr_assert_eq(i, n);
    for (struct conn_link *l = list->latest; l; l = l->older) {
        cr_assert_gt(i, 0);
        i--;
        cr_assert_eq(CONN_LIST_ENTRY(l, struct item, link)->id, ids[i]);
    }
    cr_assert_eq(i, 0);
}

Test(conn_list, empty_list_has_no_idlest)
{
    struct conn_list list;
    conn_list_init(&list);
    cr_assert_null(list.idlest);
    cr_assert_null(list.latest);
    expect_order(&list, NULL, 0);
}

Test(conn_list, added_last_is_latest_first_is_idlest)
{
    struct conn_list list;
    struct item it[3] = {{.id = 1}, {.id = 2}, {.id = 3}};
    conn_list_init(&list);
    for (int i = 0; i < 3; i++)
        conn_list_add(&list, &it[i].link);
    expect_order(&list, (const int[]){1, 2, 3}, 3);
    cr_assert_eq(list.idlest, &it[0].link);
    cr_assert_eq(list.latest, &it[2].link);
}

Test(conn_list, touch_moves_to_the_front)
{
    struct conn_list list;
    struct item it[3] = {{.id = 1}, {.id = 2}, {.id = 3}};
    conn_list_init(&list);
    for (int i = 0; i < 3; i++)
        conn_list_add(&list, &it[i].link);
    conn_list_touch(&list, &it[0].link); /* the idlest becomes the latest */
    expect_order(&list, (const int[]){2, 3, 1}, 3);
    conn_list_touch(&list, &it[2].link); /* one in the middle */
    expect_order(&list, (const int[]){2, 1, 3}, 3);
    conn_list_touch(&list, &it[2].link); /* already the latest: nothing moves */
    expect_order(&list, (const int[]){2, 1, 3}, 3);
}

Test(conn_list, remove_head_middle_tail_and_last)
{
    struct conn_list list;
    struct item it[4] = {{.id = 1}, {.id = 2}, {.id = 3}, {.id = 4}};
    conn_list_init(&list);
    for (int i = 0; i < 4; i++)
        conn_list_add(&list, &it[i].link);
    conn_list_remove(&list, &it[1].link); /* middle */
    expect_order(&list, (const int[]){1, 3, 4}, 3);
    conn_list_remove(&list, &it[3].link); /* latest */
    expect_order(&list, (const int[]){1, 3}, 2);
    conn_list_remove(&list, &it[0].link); /* idlest */
    expect_order(&list, (const int[]){3}, 1);
    conn_list_remove(&list, &it[2].link); /* the last one */
    expect_order(&list, NULL, 0);
    cr_assert_null(list.idlest);
    cr_assert_null(list.latest);
    conn_list_add(&list, &it[1].link); /* usable again */
    expect_order(&list, (const int[]){2}, 1);
}
