;; Static protection: memory 0 = 1 no-access page, 2 read-only pages, then
;; the read-write part (type limits 1..3 pages).
;;
;;   0x00000 .. 0x0ffff  no-access
;;   0x10000 .. 0x2ffff  read-only (initialised by the data segments)
;;   0x30000 .. 0x3ffff  read-write

(module
  (memory (export "mem") 1 3)
  (@custom "memory-control" "memory 0 no-access=1 read-only=2")
  (data (i32.const 0x10000) "\01\02\03\04")
  (data (i32.const 0x2fffc) "\aa\bb\cc\dd")
  (data (i32.const 0x30000) "\11\22")

  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (data $p "xyz")
  (func (export "init") (param i32 i32 i32) (memory.init $p (local.get 0) (local.get 1) (local.get 2)))
)

;; memory.size counts every page.
(assert_return (invoke "size") (i32.const 4))

;; No-access part: first and last byte.
(assert_trap (invoke "load8" (i32.const 0)) "access denied")
(assert_trap (invoke "load8" (i32.const 0xffff)) "access denied")
(assert_trap (invoke "store8" (i32.const 0) (i32.const 1)) "access denied")
(assert_trap (invoke "store8" (i32.const 0xffff) (i32.const 1)) "access denied")

;; Read-only part: readable, first and last byte; never writable.
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 1))
(assert_return (invoke "load32" (i32.const 0x10000)) (i32.const 0x04030201))
(assert_return (invoke "load8" (i32.const 0x2ffff)) (i32.const 0xdd))
(assert_trap (invoke "store8" (i32.const 0x10000) (i32.const 1)) "access denied")
(assert_trap (invoke "store8" (i32.const 0x2ffff) (i32.const 1)) "access denied")
(assert_return (invoke "load8" (i32.const 0x2ffff)) (i32.const 0xdd))

;; A load straddling no-access / read-only is denied.
(assert_trap (invoke "load32" (i32.const 0xfffe)) "access denied")

;; Read-write part: first and last byte.
(assert_return (invoke "load8" (i32.const 0x30000)) (i32.const 0x11))
(assert_return (invoke "store8" (i32.const 0x30000) (i32.const 0x55)))
(assert_return (invoke "load8" (i32.const 0x30000)) (i32.const 0x55))
(assert_return (invoke "store8" (i32.const 0x3ffff) (i32.const 0x66)))
(assert_return (invoke "load8" (i32.const 0x3ffff)) (i32.const 0x66))
(assert_trap (invoke "load8" (i32.const 0x40000)) "out of bounds memory access")

;; A store straddling read-only / read-write traps and writes nothing.
(assert_trap (invoke "store32" (i32.const 0x2fffe) (i32.const 0x01020304)) "access denied")
(assert_return (invoke "load8" (i32.const 0x2fffe)) (i32.const 0xcc))
(assert_return (invoke "load8" (i32.const 0x30000)) (i32.const 0x55))
(assert_return (invoke "load8" (i32.const 0x30001)) (i32.const 0x22))

;; Bulk operations check their whole range first.
(assert_trap (invoke "fill" (i32.const 0x2ffff) (i32.const 9) (i32.const 2)) "access denied")
(assert_return (invoke "load8" (i32.const 0x30000)) (i32.const 0x55))
(assert_trap (invoke "fill" (i32.const 0) (i32.const 9) (i32.const 1)) "access denied")
(assert_return (invoke "fill" (i32.const 0x10000) (i32.const 9) (i32.const 0)))
(assert_return (invoke "fill" (i32.const 0x30002) (i32.const 9) (i32.const 2)))
(assert_return (invoke "load8" (i32.const 0x30003)) (i32.const 9))

;; copy: reading the read-only part is fine, reading no-access is not,
;; writing below the read-write base is not.
(assert_return (invoke "copy" (i32.const 0x30010) (i32.const 0x10000) (i32.const 4)))
(assert_return (invoke "load32" (i32.const 0x30010)) (i32.const 0x04030201))
(assert_trap (invoke "copy" (i32.const 0x30020) (i32.const 0xfffc) (i32.const 8)) "access denied")
(assert_return (invoke "load32" (i32.const 0x30020)) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 0x20000) (i32.const 0x30000) (i32.const 4)) "access denied")
(assert_return (invoke "copy" (i32.const 0x20000) (i32.const 0x30000) (i32.const 0)))

;; init into the read-only part is denied; into read-write works.
(assert_trap (invoke "init" (i32.const 0x2ffff) (i32.const 0) (i32.const 2)) "access denied")
(assert_return (invoke "init" (i32.const 0x30100) (i32.const 0) (i32.const 3)))
(assert_return (invoke "load8" (i32.const 0x30102)) (i32.const 0x7a))

;; grow extends only the read-write part and returns the old total.
(assert_return (invoke "grow" (i32.const 1)) (i32.const 4))
(assert_return (invoke "size") (i32.const 5))
(assert_return (invoke "store8" (i32.const 0x4ffff) (i32.const 1)))
(assert_return (invoke "grow" (i32.const 1)) (i32.const 5))
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_trap (invoke "load8" (i32.const 0)) "access denied")
(assert_trap (invoke "store8" (i32.const 0x2ffff) (i32.const 1)) "access denied")

;; A data segment touching the no-access part fails instantiation.
(assert_trap
  (module
    (memory 1)
    (@custom "memory-control" "memory 0 no-access=1")
    (data (i32.const 0xffff) "\01\02"))
  "access denied")

;; Out of bounds is checked before protection.
(assert_trap
  (module
    (memory 1)
    (@custom "memory-control" "memory 0 no-access=1")
    (data (i32.const 0x20000) "\01"))
  "out of bounds memory access")

;; An empty segment at a protected address is fine.
(module
  (memory 1)
  (@custom "memory-control" "memory 0 no-access=1")
  (data (i32.const 0x100) ""))

;; Atomics on an unshared memory with a read-only prefix: loads need read
;; access; every atomic write needs write access, a failing cmpxchg too
;; (on aarch64 the compiler makes it write: `TargetInfo::cas_writes_on_failure`).
(module
  (memory 1 1)
  (@custom "memory-control" "memory 0 read-only=1")
  (data (i32.const 0x0) "\07\00\00\00")
  (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "add") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "cmpxchg") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "cmpxchg8") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
  (func (export "cmpxchg64") (param i32 i64 i64) (result i64)
    (i64.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
)
(assert_return (invoke "load" (i32.const 0)) (i32.const 7))
(assert_trap (invoke "add" (i32.const 0) (i32.const 1)) "access denied")
(assert_trap (invoke "cmpxchg" (i32.const 0) (i32.const 7) (i32.const 8)) "access denied")
(assert_trap (invoke "cmpxchg" (i32.const 0) (i32.const 0) (i32.const 8)) "access denied")
(assert_trap (invoke "cmpxchg8" (i32.const 0xfffc) (i32.const 1) (i32.const 2)) "access denied")
(assert_trap (invoke "cmpxchg64" (i32.const 0xfff8) (i64.const 1) (i64.const 2)) "access denied")
(assert_return (invoke "load" (i32.const 0)) (i32.const 7))
;; In the read-write part both outcomes work and the failing one changes nothing.
(assert_return (invoke "cmpxchg" (i32.const 0x10000) (i32.const 1) (i32.const 9)) (i32.const 0))
(assert_return (invoke "load" (i32.const 0x10000)) (i32.const 0))
(assert_return (invoke "cmpxchg" (i32.const 0x10000) (i32.const 0) (i32.const 9)) (i32.const 0))
(assert_return (invoke "load" (i32.const 0x10000)) (i32.const 9))
(assert_return (invoke "cmpxchg8" (i32.const 0x10001) (i32.const 5) (i32.const 2)) (i32.const 0))
(assert_return (invoke "cmpxchg64" (i32.const 0x10008) (i64.const 0) (i64.const -1)) (i64.const 0))
(assert_return (invoke "cmpxchg64" (i32.const 0x10008) (i64.const 0) (i64.const 3)) (i64.const -1))
