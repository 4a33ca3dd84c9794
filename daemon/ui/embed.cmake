# daemon/ui/embed.cmake: cmake -DIN=FILE -DOUT=FILE.c -DNAME=sym -P embed.cmake
# writes FILE's bytes as `const unsigned char sym[]` and `sym_len`, so the
# dashboard ships inside cdhtd (no install step, no external files).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "/* generated from ${IN} by daemon/ui/embed.cmake: do not edit */\n"
  "#include <stddef.h>\n"
  "const unsigned char ${NAME}[] = {\n${bytes}};\n"
  "const size_t ${NAME}_len = sizeof(${NAME});\n")
file(RENAME "${OUT}.tmp" "${OUT}")
