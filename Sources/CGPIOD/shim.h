/* libgpiod 1.6 (Debian bookworm's libgpiod-dev): the v1 character-device API. */
#include <gpiod.h>
