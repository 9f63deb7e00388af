/* milter.c - placeholder until the milter work writes it. */
int
main(void)
{
    return 75;
}
