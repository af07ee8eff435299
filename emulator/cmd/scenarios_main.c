#include "scenarios_main.h"

#include "scenario_locate.h"
#include "usage.h"

#include <string.h>

#define SCENARIOS_MAX 128

const char scenarios_usage[] =
    "Usage: kmsload scenarios\n"
    "\n"
    "Lists the shipped scenarios with the first line of each file's comment: what it shows;\n"
    "[real clock] marks those whose requests carry the real time (safe for a production host).\n"
    "Run one by name from any directory: kmsload run NAME (e.g. kmsload run smoke).\n";

int scenarios_print(FILE *f, const char *command)
{
    static struct scenario_entry list[SCENARIOS_MAX];
    char dir[1024];
    int n = scenario_library_list(list, SCENARIOS_MAX, dir, sizeof dir);
    if (n < 0) {
        fprintf(stderr,
                "kmsload %s: no shipped scenarios found (not installed, and no source tree)\n",
                command);
        return 2;
    }
    size_t width = 0;
    for (int i = 0; i < n; i++)
        if (strlen(list[i].name) > width)
            width = strlen(list[i].name);
    fprintf(f, "Shipped scenarios (%s); run one with 'kmsload run NAME':\n\n", dir);
    for (int i = 0; i < n; i++)
        fprintf(f, "  %-*s  %s%s\n", (int)width, list[i].name, list[i].purpose,
                list[i].real_clock ? " [real clock]" : "");
    fputs("\n[real clock]: requests carry the real time, so the run suits a production host; the\n"
          "others run on the virtual clock and need a host that follows client time\n"
          "(kmsload host --clock client, or the embedded host).\n",
          f);
    return 0;
}

int scenarios_options_parse(int argc, char **argv, struct scenarios_options *opt, char *err,
                            size_t err_len)
{
    opt->help = argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0);
    if (!opt->help && argc > 1)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[1]);
    return 0;
}

int scenarios_execute(const struct scenarios_options *opt)
{
    (void)opt;
    return scenarios_print(stdout, "scenarios");
}
