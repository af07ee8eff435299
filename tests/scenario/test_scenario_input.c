/* kmsload run's scenario as given: a file, --population sections added to it or alone
 * (scenario_input.h). */
#include "scenario_input.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(scenario_input, populations_alone_are_a_scenario)
{
    static const char *const pops[] = {"clients:win10-pro:30", "servers:ws2022-standard:5"};
    struct scenario *sc = calloc(1, sizeof *sc);
    char err[512];
    cr_assert_eq(scenario_load_input(sc, NULL, pops, 2, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(sc->name, "cli");
    cr_assert_eq(sc->n_pops, 2);
    cr_assert_str_eq(sc->pops[0].name, "clients");
    cr_assert_eq(sc->pops[0].machines, 30);
    cr_assert_str_eq(sc->pops[1].name, "servers");
    cr_assert_eq(sc->pops[1].machines, 5);
    free(sc);
}

Test(scenario_input, a_population_is_added_to_a_file_without_a_final_newline)
{
    char path[] = "/tmp/kmsload-scenario-input-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    static const char text[] = "[scenario]\nname = base\n[population a]\nproduct = win10-pro\n"
                               "machines = 3"; /* no final newline */
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    static const char *const pops[] = {"b:win10-pro:4"};
    static const char *const sets[] = {"population b.machines=7"};
    struct scenario *sc = calloc(1, sizeof *sc);
    char err[512];
    int rc = scenario_load_input(sc, path, pops, 1, sets, 1, err, sizeof err);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_str_eq(sc->name, "base");
    cr_assert_eq(sc->n_pops, 2);
    cr_assert_eq(sc->pops[0].machines, 3);
    cr_assert_eq(sc->pops[1].machines, 7, "--set applies to a --population section");
    free(sc);
}

Test(scenario_input, an_unreadable_file_is_named)
{
    static const char *const pops[] = {"b:win10-pro:4"};
    struct scenario *sc = calloc(1, sizeof *sc);
    char err[512];
    cr_assert_neq(scenario_load_input(sc, "/nonexistent/x.ini", pops, 1, NULL, 0, err, sizeof err),
                  0);
    cr_assert(strstr(err, "/nonexistent/x.ini: cannot read the scenario"), "%s", err);
    free(sc);
}
