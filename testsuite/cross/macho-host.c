/* A minimal host for the Mach-O link check (testsuite/cross/macho-link.sh):
 * it references the module getter the object defines, so the linker must
 * resolve the object's symbols and apply its relocations. No headers: there
 * is no macOS SDK here. */
extern const void *demo_module(void);

int main(void) {
    return demo_module() != 0 ? 0 : 1;
}
