;; Immutable memories: read-only after instantiation, cannot grow, and code
;; that writes to them does not compile.

(module
  (memory (export "table") 1)
  (@custom "memory-control" "memory 0 immutable")
  (data (i32.const 0) "\0a\0b\0c\0d")
  (data (i32.const 0xfffc) "\ff\fe\fd\fc")
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "sum") (param i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load8_u (i32.and (local.get $i) (i32.const 3)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $s))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0x0a))
(assert_return (invoke "load8" (i32.const 0xffff)) (i32.const 0xfc))
(assert_return (invoke "sum" (i32.const 8)) (i32.const 92))
(assert_trap (invoke "load8" (i32.const 0x10000)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 0)) (i32.const -1))
(assert_return (invoke "size") (i32.const 1))

(assert_invalid
  (module (memory 1) (@custom "memory-control" "memory 0 immutable")
    (func (i32.store (i32.const 0) (i32.const 1))))
  "immutable")
(assert_invalid
  (module (memory 1) (@custom "memory-control" "memory 0 immutable")
    (func (memory.fill (i32.const 0) (i32.const 1) (i32.const 1))))
  "immutable")
(assert_invalid
  (module (memory 1) (memory 1) (@custom "memory-control" "memory 1 immutable")
    (func (memory.copy 1 0 (i32.const 0) (i32.const 1) (i32.const 1))))
  "immutable")
(assert_invalid
  (module (memory 1) (@custom "memory-control" "memory 0 immutable") (data $d "x")
    (func (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))))
  "immutable")
(assert_invalid
  (module (memory 1) (@custom "memory-control" "memory 0 immutable")
    (func (i64.store8 (i32.const 0) (i64.const 1))))
  "immutable")

;; Copying out of an immutable memory is fine.
(module
  (memory $ro 1)
  (memory $rw 1)
  (@custom "memory-control" "memory 0 immutable")
  (data (memory $ro) (i32.const 8) "hi")
  (func (export "copy") (memory.copy $rw $ro (i32.const 0) (i32.const 8) (i32.const 2)))
  (func (export "load") (param i32) (result i32) (i32.load8_u $rw (local.get 0)))
)
(assert_return (invoke "copy"))
(assert_return (invoke "load" (i32.const 1)) (i32.const 0x69))

;; Constant-address loads that provably stay below the minimum size are
;; pure (hoisted out of loops); the others still trap past the end.
(module
  (memory 1)
  (@custom "memory-control" "memory 0 immutable")
  (data (i32.const 100) "\05")
  (data (i32.const 65532) "\01\02\03\04")
  (func (export "loop") (param i32) (result i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load8_u (i32.const 100))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (local.get $s))
  (func (export "edge") (result i32) (i32.load (i32.const 65532)))
  (func (export "edge-offset") (result i32) (i32.load offset=65531 (i32.const 1)))
  (func (export "past") (result i32) (i32.load (i32.const 65533)))
  (func (export "past-offset") (result i32) (i32.load offset=4294967295 (i32.const 1)))
  (func (export "negative") (result i32) (i32.load8_u (i32.const -1)))
)
(assert_return (invoke "loop" (i32.const 10)) (i32.const 50))
(assert_return (invoke "edge") (i32.const 0x04030201))
(assert_return (invoke "edge-offset") (i32.const 0x04030201))
(assert_trap (invoke "past") "out of bounds memory access")
(assert_trap (invoke "past-offset") "out of bounds memory access")
(assert_trap (invoke "negative") "out of bounds memory access")
