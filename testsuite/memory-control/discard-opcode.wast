;; The memory.discard instruction itself (0xFC 0x12 memidx), as a binary
;; module: the text format has no spelling for it in the `wast` crate.
;; d = memory.discard 0, s = i32.store8, l = i32.load8_u; memory of 2 pages.
(module binary "\00\61\73\6d\01\00\00\00\01\0b\02\60\02\7f\7f\00\60\01\7f\01\7f\03\04\03\00\00\01\05\03\01\00\02\07\0d\03\01\64\00\00\01\73\00\01\01\6c\00\02\0a\1d\03\09\00\20\00\20\01\fc\12\00\0b\09\00\20\00\20\01\3a\00\00\0b\07\00\20\00\2d\00\00\0b")
(assert_return (invoke "s" (i32.const 0x10005) (i32.const 7)))
(assert_return (invoke "s" (i32.const 5) (i32.const 9)))
(assert_trap (invoke "d" (i32.const 0x10000) (i32.const 0x100)) "memory-control request refused: unaligned")
(assert_trap (invoke "d" (i32.const 0x10000) (i32.const 0x20000)) "out of bounds memory access")
(assert_return (invoke "l" (i32.const 0x10005)) (i32.const 7))
(assert_return (invoke "d" (i32.const 0x10000) (i32.const 0x10000)))
(assert_return (invoke "l" (i32.const 0x10005)) (i32.const 0))
(assert_return (invoke "l" (i32.const 5)) (i32.const 9))
(assert_return (invoke "d" (i32.const 0x20000) (i32.const 0)))
