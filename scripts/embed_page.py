#!/usr/bin/env python3
"""Turn a self-contained HTML page into a C source holding it as a byte
array, with the Content-Security-Policy that lets exactly its inline
<script> and <style> run (the SHA-256 hashes of their text),
so the daemon needs neither 'unsafe-inline' nor files at run time.

Refuses (exit 1) a page the policy would break or that reaches out:
more than one <script> or <style> element, a script with src=, inline
event handlers (onclick=...), style= attributes, or any http(s):// URL.

usage: embed_page.py INPUT OUTPUT SYMBOL
emits  const uint8_t SYMBOL[]; const size_t SYMBOL_len;
       const char SYMBOL_csp[];"""
import base64
import hashlib
import re
import sys


def fail(src, msg):
    sys.stderr.write("%s: %s\n" % (src, msg))
    sys.exit(1)


def only_block(src, text, tag):
    blocks = re.findall(r"<%s(\s[^>]*)?>(.*?)</%s>" % (tag, tag), text,
                        re.S | re.I)
    if len(blocks) != 1:
        fail(src, "exactly one <%s> element expected, found %d"
             % (tag, len(blocks)))
    attrs, body = blocks[0]
    if attrs.strip():
        fail(src, "<%s> takes no attributes (src=, nonce=...)" % tag)
    digest = hashlib.sha256(body.encode("utf-8")).digest()
    return "'sha256-%s'" % base64.b64encode(digest).decode()


def main():
    src, out, sym = sys.argv[1:4]
    data = open(src, "rb").read()
    text = data.decode("utf-8")
    markup = re.sub(r"<(script|style)>.*?</\1>", "", text, flags=re.S)
    if re.search(r"\son[a-z]+\s*=", markup, re.I):
        fail(src, "inline event handler attribute: the CSP forbids it")
    if re.search(r"\sstyle\s*=", markup, re.I):
        fail(src, "style= attribute: the CSP forbids it")
    if re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I):
        fail(src, "an external URL: the page must be self-contained")
    csp = ("default-src 'none'; script-src %s; style-src %s; "
           "connect-src 'self'; base-uri 'none'; "
           "form-action 'none'; frame-ancestors 'none'"
           % (only_block(src, text, "script"),
              only_block(src, text, "style")))
    with open(out, "w") as f:
        f.write("/* generated from %s by scripts/embed_page.py; "
                "do not edit */\n" % src.split("/")[-1])
        f.write("#include <stddef.h>\n#include <stdint.h>\n")
        f.write("const uint8_t %s[] = {\n" % sym)
        for i in range(0, len(data), 16):
            f.write("\t" + ", ".join("0x%02x" % b for b in data[i:i + 16])
                    + ",\n")
        f.write("\t0x00\n};\nconst size_t %s_len = %d;\n" % (sym, len(data)))
        f.write("const char %s_csp[] = \"%s\";\n" % (sym, csp))


if __name__ == "__main__":
    main()
