/* bash completion (docs/completion/kmsload.bash): what <TAB> offers after a partial command line,
 * read from the program itself. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/kmsload-completion-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    support_remove_tree(dir);
}

/* The completions bash offers for the words (the last one being completed, "" for an empty
 * one), one per line,
 * each line framed as "\nWORD\n" so a whole word can be searched for. */
static char *complete(const char *words)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && bash --norc --noprofile -c 'source \"%s/docs/completion/kmsload.bash\"; "
             "COMP_WORDS=(\"%s\" %s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
             "_kmsload; echo; printf \"%%s\\n\" \"${COMPREPLY[@]}\"' >out.txt 2>err.txt",
             dir, KMSLOAD_SOURCE_DIR, KMSLOAD_BINARY, words);
    int status = system(cmd);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", cmd);
    char path[128];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    char *out = support_slurp(path, NULL);
    cr_assert_not_null(out);
    return out;
}

static int offers(const char *out, const char *word)
{
    char framed[128];
    snprintf(framed, sizeof framed, "\n%s\n", word);
    return strstr(out, framed) != NULL;
}

TestSuite(completion, .init = setup, .fini = teardown, .timeout = 60);

Test(completion, commands_and_their_flags)
{
    char *out = complete("\"\"");
    const char *cmds[] = {"run", "probe", "host", "scenarios", "watch", "report", "--help"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        cr_expect(offers(out, cmds[i]), "kmsload <TAB> lacks %s:%s", cmds[i], out);
    free(out);

    out = complete("ru");
    cr_expect(offers(out, "run") && !offers(out, "probe"), "kmsload ru<TAB>:%s", out);
    free(out);

    out = complete("run --ta");
    cr_expect(offers(out, "--target") && offers(out, "--target-clock") && !offers(out, "--out"),
              "kmsload run --ta<TAB>:%s", out);
    free(out);

    out = complete("host --list");
    cr_expect(offers(out, "--listen") && offers(out, "--list-host-keys"),
              "kmsload host --list<TAB>:%s", out);
    free(out);
}

Test(completion, shipped_scenario_names_after_run)
{
    char *out = complete("run sm");
    cr_expect(offers(out, "smoke"), "kmsload run sm<TAB>:%s", out);
    cr_expect(!offers(out, "stress"), "kmsload run sm<TAB>:%s", out);
    free(out);
    out = complete("run --seed 3 real-host");
    cr_expect(offers(out, "real-host-smoke") && offers(out, "real-host-soak"),
              "kmsload run --seed 3 real-host<TAB>:%s", out);
    free(out);
}

Test(completion, host_keys_and_products_as_values)
{
    char *out = complete("host --host-key ws201");
    cr_expect(offers(out, "ws2019") && offers(out, "ws2012r2") && !offers(out, "ws2022"),
              "kmsload host --host-key ws201<TAB>:%s", out);
    free(out);
    /* The next item of a comma list. */
    out = complete("host --host-key ws2019,office20");
    cr_expect(offers(out, "ws2019,office2010") && offers(out, "ws2019,office2021"),
              "kmsload host --host-key ws2019,office20<TAB>:%s", out);
    free(out);
    out = complete("probe --product win10-pro-");
    cr_expect(offers(out, "win10-pro-n"), "kmsload probe --product win10-pro-<TAB>:%s", out);
    free(out);
    out = complete("host --clock \"\"");
    cr_expect(offers(out, "real") && offers(out, "client"), "kmsload host --clock <TAB>:%s", out);
    free(out);
}
