/* `kmsload run --keep-previous N`: a reused --out keeps the N newest previous-* runs, removes the
 * older ones, and touches nothing else in the directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

static struct support_scratch kp;

static void setup(void)
{
    support_scratch_init(&kp, "keepprev");
}

static void teardown(void)
{
    support_scratch_fini(&kp);
}

TestSuite(keep_previous, .init = setup, .fini = teardown, .timeout = 60);

/* One small run into out; returns its stderr (the caller frees it via the result). */
static struct support_result run_into(const char *out, const char *keep)
{
    struct support_result r =
        support_runl(&kp, 20000, 0, "run", "--population", "c:win10-pro:5", "--set", "duration=1d",
                     "--no-report", "--out", out, "--keep-previous", keep, NULL);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    return r;
}

/* Where the run said it moved the earlier run's files ("" when it said nothing). */
static void moved_to(const char *err, char *out, size_t cap)
{
    const char *p = strstr(err, "its files are now in ");
    out[0] = '\0';
    if (!p)
        return;
    p += strlen("its files are now in ");
    size_t n = strcspn(p, "\n");
    cr_assert_lt(n, cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* previous-* folders in dir. */
static unsigned count_previous(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    unsigned n = 0;
    const struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, "previous-", 9) == 0;
    closedir(d);
    return n;
}

Test(keep_previous, four_runs_keep_the_two_newest_and_nothing_else_is_touched)
{
    char out[128], path[512];
    support_scratch_path(&kp, "out", out, sizeof out);
    cr_assert_eq(mkdir(out, 0777), 0);
    /* Not kmsload's: a folder of the user's, and a previous-* folder without run files. */
    snprintf(path, sizeof path, "%s/notes", out);
    cr_assert_eq(mkdir(path, 0777), 0);
    support_write_in(path, "keep.txt", "mine\n");
    snprintf(path, sizeof path, "%s/previous-handmade", out);
    cr_assert_eq(mkdir(path, 0777), 0);
    support_write_in(path, "readme.txt", "not a run\n");

    char moved[4][512];
    for (int i = 0; i < 4; i++) {
        struct support_result r = run_into(out, "2");
        moved_to(r.err, moved[i], sizeof moved[i]);
        cr_assert_eq(moved[i][0] != '\0', i > 0, "run %d: %s", i, r.err);
        /* Only the fourth run finds three earlier runs, one too many. */
        cr_assert_eq(strstr(r.err, "removed 1 earlier run from") != NULL, i == 3, "run %d: %s", i,
                     r.err);
        support_result_free(&r);
        usleep(20000); /* the folders' modification times are their order */
    }
    cr_assert_not(is_dir(moved[1]), "the oldest earlier run %s is still there", moved[1]);
    cr_assert(is_dir(moved[2]), "%s", moved[2]);
    cr_assert(is_dir(moved[3]), "%s", moved[3]);
    cr_assert(support_exists_in(moved[2], "summary.json"));
    cr_assert(support_exists_in(moved[3], "events.csv"));
    cr_assert(support_exists_in(out, "summary.json"), "the new run's own files stay");
    /* Two runs and the hand-made folder. */
    cr_assert_eq(count_previous(out), 3);
    snprintf(path, sizeof path, "%s/notes", out);
    char *text = support_slurp_in(path, "keep.txt");
    cr_assert_str_eq(text, "mine\n");
    free(text);
    snprintf(path, sizeof path, "%s/previous-handmade", out);
    text = support_slurp_in(path, "readme.txt");
    cr_assert_str_eq(text, "not a run\n");
    free(text);

    /* 0 keeps none of the runs, still nothing else. */
    struct support_result r = run_into(out, "0");
    cr_assert(strstr(r.err, "removed 3 earlier runs from"), "%s", r.err);
    support_result_free(&r);
    cr_assert_eq(count_previous(out), 1);
    cr_assert(is_dir(path));
    cr_assert(support_exists_in(out, "notes/keep.txt"));
}

Test(keep_previous, a_bad_count_is_refused_naming_the_flag)
{
    struct support_result r =
        support_runl(&kp, 10000, 0, "run", "--keep-previous", "many", "smoke", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--keep-previous \"many\": expected a number"), "%s", r.err);
    support_result_free(&r);
}
