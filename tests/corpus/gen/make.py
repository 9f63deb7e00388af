# make.py - write every corpus message and its .expect into ../messages.
# Each gen_*.py writes its messages when imported; the output is deterministic.
import gen_gmail, gen_outlook, gen_apple, gen_tb, gen_keys, gen_round2  # noqa: F401
