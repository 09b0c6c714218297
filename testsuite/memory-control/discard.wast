;; memory.discard through the `memory-control` import: behaves like
;; memory.fill(addr, 0, size) and gives the pages back.

(module
  (import "memory-control" "discard" (func $discard (param i32 i32)))
  (memory (export "mem") 4)
  (data (i32.const 0) "\01\02\03\04")
  (data (i32.const 0x1fffc) "\05\06\07\08")
  (func (export "discard") (param i32 i32) (call $discard (local.get 0) (local.get 1)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "size") (result i32) (memory.size))
)

;; Order of checks: unaligned first (even when out of bounds), then bounds.
(assert_trap (invoke "discard" (i32.const 1) (i32.const 0x10000)) "memory-control request refused: unaligned")
(assert_trap (invoke "discard" (i32.const 0) (i32.const 0x100)) "memory-control request refused: unaligned")
(assert_trap (invoke "discard" (i32.const 0x50001) (i32.const 0x10000)) "memory-control request refused: unaligned")
(assert_trap (invoke "discard" (i32.const 0x30000) (i32.const 0x20000)) "out of bounds memory access")
(assert_trap (invoke "discard" (i32.const 0x50000) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "discard" (i32.const 0xffff0000) (i32.const 0x20000)) "out of bounds memory access")
;; A trapping discard changes nothing.
(assert_return (invoke "load8" (i32.const 0)) (i32.const 1))

;; Size 0 is allowed up to the end.
(assert_return (invoke "discard" (i32.const 0x40000) (i32.const 0)))
(assert_return (invoke "discard" (i32.const 0) (i32.const 0)))
(assert_return (invoke "load8" (i32.const 0)) (i32.const 1))

;; Discarding zeroes exactly the range.
(assert_return (invoke "store8" (i32.const 0x20000) (i32.const 9)))
(assert_return (invoke "discard" (i32.const 0) (i32.const 0x20000)))
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 3)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x1ffff)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x20000)) (i32.const 9))
;; The memory stays usable and its size unchanged.
(assert_return (invoke "store8" (i32.const 5) (i32.const 7)))
(assert_return (invoke "load8" (i32.const 5)) (i32.const 7))
(assert_return (invoke "size") (i32.const 4))
(assert_return (invoke "discard" (i32.const 0) (i32.const 0x40000)))
(assert_return (invoke "load8" (i32.const 5)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x20000)) (i32.const 0))

;; discard@N on memory N, and on a memory64.
(module
  (import "memory-control" "discard@1" (func $discard1 (param i64 i64)))
  (memory $m0 1)
  (memory $m1 i64 2)
  (data (memory $m0) (i32.const 0) "\01")
  (data (memory $m1) (i64.const 0x10000) "\02")
  (func (export "discard1") (param i64 i64) (call $discard1 (local.get 0) (local.get 1)))
  (func (export "load0") (param i32) (result i32) (i32.load8_u $m0 (local.get 0)))
  (func (export "load1") (param i64) (result i32) (i32.load8_u $m1 (local.get 0)))
)
(assert_return (invoke "load1" (i64.const 0x10000)) (i32.const 2))
(assert_trap (invoke "discard1" (i64.const 0x8000) (i64.const 0x10000)) "memory-control request refused: unaligned")
(assert_trap (invoke "discard1" (i64.const 0x10000) (i64.const 0x20000)) "out of bounds memory access")
(assert_trap (invoke "discard1" (i64.const 0xffffffffffff0000) (i64.const 0x20000)) "out of bounds memory access")
(assert_return (invoke "discard1" (i64.const 0x10000) (i64.const 0x10000)))
(assert_return (invoke "load1" (i64.const 0x10000)) (i32.const 0))
(assert_return (invoke "load0" (i32.const 0)) (i32.const 1))

;; Discard in a protected part is "access denied"; in the read-write part fine.
(module
  (import "memory-control" "discard" (func $discard (param i32 i32)))
  (memory 2)
  (@custom "memory-control" "memory 0 no-access=1 read-only=1")
  (data (i32.const 0x10000) "\03")
  (func (export "discard") (param i32 i32) (call $discard (local.get 0) (local.get 1)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(assert_trap (invoke "discard" (i32.const 0) (i32.const 0x10000)) "access denied")
(assert_trap (invoke "discard" (i32.const 0x10000) (i32.const 0x10000)) "access denied")
(assert_trap (invoke "discard" (i32.const 0x10000) (i32.const 0x20000)) "access denied")
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 3))
(assert_return (invoke "discard" (i32.const 0x20000) (i32.const 0x20000)))
(assert_return (invoke "discard" (i32.const 0x10000) (i32.const 0)))

;; Bad imports are compile errors.
(assert_invalid
  (module (import "memory-control" "discard" (func (param i32))) (memory 1))
  "wrong signature")
(assert_invalid
  (module (import "memory-control" "discard@1" (func (param i32 i32))) (memory 1))
  "no memory 1")
(assert_invalid
  (module (import "memory-control" "discard" (func (param i64 i64))) (memory 1))
  "wrong signature")
(assert_invalid
  (module (import "memory-control" "frobnicate" (func)) (memory 1))
  "unknown memory-control operation")
(assert_invalid
  (module (import "memory-control" "discard" (global i32)) (memory 1))
  "functions")
