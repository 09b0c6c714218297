/* lexer: a tokenizer over 1 MiB of program-like text: a switch on
 * characters (br_table), character-class tests, short inner loops. */
#include "kernel.h"
#define N (1 << 20)
static char text[N];
enum { WS, ID, NUM, OP, STR };
static NOINLINE uint64_t lex(void) {
    uint64_t toks = 0, idh = 0, nums = 0;
    int i = 0;
    while (i < N) {
        char c = text[i];
        switch (c) {
        case ' ': case '\n': case '\t': i++; break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9': {
            uint32_t v = 0;
            while (i < N && text[i] >= '0' && text[i] <= '9') v = v * 10 + (text[i++] - '0');
            nums += v; toks++; break;
        }
        case '"': i++; while (i < N && text[i] != '"') i++; i++; toks++; break;
        case '+': case '-': case '*': case '/': case '=': case '(': case ')': case ';': case '{': case '}':
            idh = idh * 31 + c; i++; toks++; break;
        default:
            if ((c | 32) >= 'a' && (c | 32) <= 'z') {
                uint32_t hh = 0;
                while (i < N && (((text[i] | 32) >= 'a' && (text[i] | 32) <= 'z') || text[i] == '_')) hh = hh * 33 + text[i++];
                idh ^= hh; toks++;
            } else i++;
        }
    }
    return toks * 1000003 + idh + nums;
}
uint64_t run(void) {
    const char *pieces[] = {"while ", "(x1 ", "+ ", "42) ", "{ ", "\"hello world\" ", "foo_bar = ", "123456; ", "}\n", "return ", "y*", "7/", "zz "};
    uint32_t s = 11;
    int i = 0;
    while (i < N - 32) { const char *p = pieces[xorshift32(&s) % 13]; while (*p) text[i++] = *p++; }
    while (i < N) text[i++] = ' ';
    uint64_t h = 0;
    for (int r = 0; r < 40; r++) { text[r * 97] = 'q'; h = mix64(h, lex()); }
    return h;
}
