;; The memory-control section: grammar and errors.

;; Lines separated by newlines or semicolons, attributes in any order,
;; extra white space, blank lines.
(module
  (memory 1) (memory 1) (memory 1)
  (@custom "memory-control" "\n  memory 2   read-only=1 ;; memory 0 no-access=1 \n\n memory 1 immutable\n")
  (func (export "size0") (result i32) (memory.size 0))
  (func (export "size1") (result i32) (memory.size 1))
  (func (export "size2") (result i32) (memory.size 2))
)
(assert_return (invoke "size0") (i32.const 2))
(assert_return (invoke "size1") (i32.const 1))
(assert_return (invoke "size2") (i32.const 2))

(assert_invalid (module (memory 1) (@custom "memory-control" "memory 0 frob")) "unknown attribute")
(assert_invalid (module (memory 1) (@custom "memory-control" "memory 1 immutable")) "does not exist")
(assert_invalid (module (memory 1) (@custom "memory-control" "memory 0 immutable; memory 0 read-only=1")) "second line")
(assert_invalid (module (memory 1) (@custom "memory-control" "memory 0 immutable no-access=1")) "stands alone")
(assert_invalid (module (memory 1) (@custom "memory-control" "memory 0 no-access=x")) "bad page count")
(assert_invalid (module (memory 1) (@custom "memory-control" "mem 0")) "expected")
(assert_invalid (module (memory 1) (@custom "memory-control" "memory 0 no-access=65536")) "65536 pages")
(assert_invalid (module (memory 1 1) (@custom "memory-control" "memory 0 virtual read-only=1")) "stands alone")

;; Attributes are part of the memory's type: an importer must match them.
(module $exp
  (memory (export "m") 1)
  (@custom "memory-control" "memory 0 read-only=1")
  (data (i32.const 0x10000) "\2a")
)
(register "exp" $exp)
(module
  (memory (import "exp" "m") 1)
  (@custom "memory-control" "memory 0 read-only=1")
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32) (i32.store8 (local.get 0) (i32.const 1)))
)
(assert_return (invoke "load" (i32.const 0x10000)) (i32.const 0x2a))
(assert_trap (invoke "store" (i32.const 0)) "access denied")
(assert_return (invoke "store" (i32.const 0x10000)))
(assert_unlinkable (module (memory (import "exp" "m") 1)) "incompatible import type")
(assert_unlinkable
  (module (memory (import "exp" "m") 1) (@custom "memory-control" "memory 0 read-only=2"))
  "incompatible import type")
;; An importer's data segment may not write the read-only part.
(assert_trap
  (module (memory (import "exp" "m") 1) (@custom "memory-control" "memory 0 read-only=1")
    (data (i32.const 0) "x"))
  "access denied")
