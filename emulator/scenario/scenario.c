/*
 * What a parsed scenario implies: whether its clock needs a host that follows client time, and
 * its wall-clock limit. The parser is scenario_parse.c.
 */
#include "scenario.h"

#define US_PER_MIN (60LL * 1000000LL)

bool scenario_needs_client_clock(const struct scenario *sc)
{
    return sc->clock == SCENARIO_CLOCK_VIRTUAL && sc->duration_us > 3 * 60 * US_PER_MIN;
}

int64_t scenario_max_wall(const struct scenario *sc)
{
    if (sc->max_wall_us > 0)
        return sc->max_wall_us;
    if (sc->clock == SCENARIO_CLOCK_REAL)
        return sc->duration_us + 5 * US_PER_MIN;
    return 60 * US_PER_MIN;
}
