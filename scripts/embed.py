#!/usr/bin/env python3
"""Turn a data file into a C source holding it as a byte array, so the
daemon carries its built-in data wherever it is installed or run from.
usage: embed.py INPUT OUTPUT SYMBOL"""
import sys

src, out, sym = sys.argv[1:4]
data = open(src, "rb").read()
with open(out, "w") as f:
    f.write("/* generated from %s by scripts/embed.py; do not edit */\n"
            % src.split("/")[-1])
    f.write("#include <stddef.h>\n#include <stdint.h>\n")
    f.write("const uint8_t %s[] = {\n" % sym)
    for i in range(0, len(data), 16):
        f.write("\t" + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",\n")
    f.write("\t0x00\n};\nconst size_t %s_len = %d;\n" % (sym, len(data)))
