/*
 * fuzz-config.c - libFuzzer target: the configuration parser.
 *
 * The input is a whole replygate.conf. config_parse() must either return a
 * configuration with at least one reply domain or an error naming the file.
 */
#include <glib.h>

#include "fuzz-common.h"

/* LLVMFuzzerTestOneInput - one configuration text */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *error = NULL;
    Config *config = config_parse((const char *)data, size, "fuzz.conf", &error);

    if (config != NULL) {
        if (error != NULL || config->reply_domains == NULL || config->reply_domains->len == 0)
            abort();
        for (guint i = 0; i < config->reply_domains->len; i++)
            (void)config_is_reply_domain(config, g_ptr_array_index(config->reply_domains, i));
        config_free(config);
    } else {
        if (error == NULL || strstr(error->message, "fuzz.conf") == NULL)
            abort();
        g_error_free(error);
    }
    return 0;
}
