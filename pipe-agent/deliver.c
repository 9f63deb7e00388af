/* deliver.c - placeholder until the storage work writes main(). */
#include <stdio.h>

int
main(void)
{
    fputs("4.3.5 replygate-deliver is not built yet\n", stdout);
    return 75;
}
