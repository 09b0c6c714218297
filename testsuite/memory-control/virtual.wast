;; Virtual memories: every page starts unmapped and is mapped, unmapped and
;; protected at run time with the `memory-control` imports map, unmap,
;; protect (and map_handle, with grants the host makes).
;;
;; Order of checks for every operation: (1) bad prot, (2) zero size,
;; (3) unaligned — refused; (4) past the size — out of bounds; (5) the
;; page states — refused; (6) out of resources — map returns -1, the
;; others refuse.

(module
  (import "memory-control" "map" (func $map (param i32 i32 i32) (result i32)))
  (import "memory-control" "unmap" (func $unmap (param i32 i32)))
  (import "memory-control" "protect" (func $protect (param i32 i32 i32)))
  (import "memory-control" "discard" (func $discard (param i32 i32)))
  (memory (export "mem") 4 4)
  (@custom "memory-control" "memory 0 virtual")
  (func (export "map") (param i32 i32 i32) (result i32) (call $map (local.get 0) (local.get 1) (local.get 2)))
  (func (export "unmap") (param i32 i32) (call $unmap (local.get 0) (local.get 1)))
  (func (export "protect") (param i32 i32 i32) (call $protect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "discard") (param i32 i32) (call $discard (local.get 0) (local.get 1)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
)

;; Every page starts unmapped; the size is fixed.
(assert_return (invoke "size") (i32.const 4))
(assert_trap (invoke "load8" (i32.const 0)) "access denied")
(assert_trap (invoke "load8" (i32.const 0x3ffff)) "access denied")
(assert_trap (invoke "store8" (i32.const 0x10000) (i32.const 1)) "access denied")
(assert_trap (invoke "load8" (i32.const 0x40000)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 0)) (i32.const 4))
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "size") (i32.const 4))

;; map: order of checks. Bad prot comes first (even with size 0, unaligned,
;; out of bounds).
(assert_trap (invoke "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const 2)) "memory-control request refused: bad prot")
(assert_trap (invoke "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const 4)) "memory-control request refused: bad prot")
(assert_trap (invoke "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const 7)) "memory-control request refused: bad prot")
(assert_trap (invoke "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const -1)) "memory-control request refused: bad prot")
(assert_trap (invoke "map" (i32.const 1) (i32.const 0) (i32.const 5)) "memory-control request refused: bad prot")
;; Then zero size (even unaligned or out of bounds).
(assert_trap (invoke "map" (i32.const 0) (i32.const 0) (i32.const 3)) "memory-control request refused: zero size")
(assert_trap (invoke "map" (i32.const 1) (i32.const 0) (i32.const 3)) "memory-control request refused: zero size")
(assert_trap (invoke "map" (i32.const 0x50000) (i32.const 0) (i32.const 3)) "memory-control request refused: zero size")
;; Then alignment of addr and size (even out of bounds).
(assert_trap (invoke "map" (i32.const 1) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: unaligned")
(assert_trap (invoke "map" (i32.const 0x8000) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: unaligned")
(assert_trap (invoke "map" (i32.const 0) (i32.const 0x8000) (i32.const 3)) "memory-control request refused: unaligned")
(assert_trap (invoke "map" (i32.const 0x50001) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: unaligned")
;; Then bounds, without wrap-around.
(assert_trap (invoke "map" (i32.const 0x40000) (i32.const 0x10000) (i32.const 3)) "out of bounds memory access")
(assert_trap (invoke "map" (i32.const 0x30000) (i32.const 0x20000) (i32.const 3)) "out of bounds memory access")
(assert_trap (invoke "map" (i32.const 0xffff0000) (i32.const 0x20000) (i32.const 3)) "out of bounds memory access")
(assert_trap (invoke "map" (i32.const 0x10000) (i32.const 0xffff0000) (i32.const 3)) "out of bounds memory access")
;; None of that mapped anything.
(assert_trap (invoke "load8" (i32.const 0x10000)) "access denied")

;; map returns addr; the pages are zeroed and read-write, exactly the range.
(assert_return (invoke "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const 3)) (i32.const 0x10000))
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x1ffff)) (i32.const 0))
(assert_trap (invoke "load8" (i32.const 0xffff)) "access denied")
(assert_trap (invoke "load8" (i32.const 0x20000)) "access denied")
(assert_return (invoke "store8" (i32.const 0x10000) (i32.const 0x11)))
(assert_return (invoke "store8" (i32.const 0x1ffff) (i32.const 0x22)))
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 0x11))
;; A store straddling into an unmapped page traps and writes nothing.
(assert_trap (invoke "store32" (i32.const 0x1fffe) (i32.const 0x01020304)) "access denied")
(assert_return (invoke "load8" (i32.const 0x1fffe)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x1ffff)) (i32.const 0x22))
(assert_trap (invoke "store32" (i32.const 0xfffe) (i32.const 0x01020304)) "access denied")
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 0x11))

;; Mapping over a mapped page is refused, and changes nothing (also the
;; unmapped part of the range stays unmapped).
(assert_trap (invoke "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: already mapped")
(assert_trap (invoke "map" (i32.const 0) (i32.const 0x20000) (i32.const 1)) "memory-control request refused: already mapped")
(assert_trap (invoke "map" (i32.const 0x10000) (i32.const 0x30000) (i32.const 0)) "memory-control request refused: already mapped")
(assert_trap (invoke "load8" (i32.const 0)) "access denied")
(assert_trap (invoke "load8" (i32.const 0x20000)) "access denied")
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 0x11))
(assert_return (invoke "store8" (i32.const 0x10001) (i32.const 0x33)))

;; Bulk operations check the whole range first: touching an unmapped page
;; traps and writes nothing.
(assert_trap (invoke "fill" (i32.const 0x1fff0) (i32.const 0xee) (i32.const 0x20)) "access denied")
(assert_return (invoke "load8" (i32.const 0x1fff0)) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 0x10000) (i32.const 0xfff0) (i32.const 0x20)) "access denied")
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 0x11))
(assert_return (invoke "fill" (i32.const 0x10100) (i32.const 0xee) (i32.const 0x10)))
(assert_return (invoke "load8" (i32.const 0x1010f)) (i32.const 0xee))
(assert_return (invoke "fill" (i32.const 0x30000) (i32.const 0xee) (i32.const 0)))

;; protect: order of checks.
(assert_trap (invoke "protect" (i32.const 1) (i32.const 0) (i32.const 2)) "memory-control request refused: bad prot")
(assert_trap (invoke "protect" (i32.const 0x10000) (i32.const 0) (i32.const 1)) "memory-control request refused: zero size")
(assert_trap (invoke "protect" (i32.const 0x10000) (i32.const 0x100) (i32.const 1)) "memory-control request refused: unaligned")
(assert_trap (invoke "protect" (i32.const 0x10000) (i32.const 0x40000) (i32.const 1)) "out of bounds memory access")
;; Every page must be mapped.
(assert_trap (invoke "protect" (i32.const 0) (i32.const 0x20000) (i32.const 1)) "memory-control request refused: not mapped")
(assert_trap (invoke "protect" (i32.const 0x10000) (i32.const 0x20000) (i32.const 1)) "memory-control request refused: not mapped")
(assert_trap (invoke "protect" (i32.const 0x30000) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: not mapped")
(assert_return (invoke "store8" (i32.const 0x10002) (i32.const 0x44)))

;; protect keeps the contents: read-only, none, read-write again.
(assert_return (invoke "protect" (i32.const 0x10000) (i32.const 0x10000) (i32.const 1)))
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 0x11))
(assert_return (invoke "load8" (i32.const 0x1ffff)) (i32.const 0x22))
(assert_trap (invoke "store8" (i32.const 0x10000) (i32.const 1)) "access denied")
(assert_trap (invoke "store8" (i32.const 0x1ffff) (i32.const 1)) "access denied")
(assert_trap (invoke "fill" (i32.const 0x10000) (i32.const 0) (i32.const 1)) "access denied")
(assert_trap (invoke "discard" (i32.const 0x10000) (i32.const 0x10000)) "access denied")
(assert_return (invoke "protect" (i32.const 0x10000) (i32.const 0x10000) (i32.const 0)))
(assert_trap (invoke "load8" (i32.const 0x10000)) "access denied")
(assert_trap (invoke "load8" (i32.const 0x1ffff)) "access denied")
(assert_return (invoke "protect" (i32.const 0x10000) (i32.const 0x10000) (i32.const 3)))
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 0x11))
(assert_return (invoke "load8" (i32.const 0x10001)) (i32.const 0x33))
(assert_return (invoke "load8" (i32.const 0x10002)) (i32.const 0x44))
(assert_return (invoke "store8" (i32.const 0x10003) (i32.const 0x55)))

;; map with read and none.
(assert_return (invoke "map" (i32.const 0x20000) (i32.const 0x10000) (i32.const 1)) (i32.const 0x20000))
(assert_return (invoke "load8" (i32.const 0x20000)) (i32.const 0))
(assert_trap (invoke "store8" (i32.const 0x20000) (i32.const 1)) "access denied")
(assert_return (invoke "map" (i32.const 0x30000) (i32.const 0x10000) (i32.const 0)) (i32.const 0x30000))
(assert_trap (invoke "load8" (i32.const 0x30000)) "access denied")
(assert_trap (invoke "map" (i32.const 0x30000) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: already mapped")
;; Protecting a range of several mappings at once.
(assert_return (invoke "protect" (i32.const 0x10000) (i32.const 0x30000) (i32.const 1)))
(assert_return (invoke "load8" (i32.const 0x3ffff)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x10003)) (i32.const 0x55))
(assert_trap (invoke "store8" (i32.const 0x20000) (i32.const 1)) "access denied")
(assert_return (invoke "protect" (i32.const 0x10000) (i32.const 0x30000) (i32.const 3)))
(assert_return (invoke "store8" (i32.const 0x3ffff) (i32.const 0x66)))
;; A copy between mapped pages.
(assert_return (invoke "copy" (i32.const 0x30000) (i32.const 0x10000) (i32.const 4)))
(assert_return (invoke "load8" (i32.const 0x30003)) (i32.const 0x55))

;; discard zeroes mapped read-write pages; unmapped ones are "access denied".
(assert_return (invoke "discard" (i32.const 0x30000) (i32.const 0x10000)))
(assert_return (invoke "load8" (i32.const 0x30003)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x10003)) (i32.const 0x55))

;; unmap: order of checks (no prot).
(assert_trap (invoke "unmap" (i32.const 1) (i32.const 0)) "memory-control request refused: zero size")
(assert_trap (invoke "unmap" (i32.const 0x10000) (i32.const 0x1000)) "memory-control request refused: unaligned")
(assert_trap (invoke "unmap" (i32.const 0x10001) (i32.const 0x10000)) "memory-control request refused: unaligned")
(assert_trap (invoke "unmap" (i32.const 0x30000) (i32.const 0x20000)) "out of bounds memory access")
(assert_trap (invoke "unmap" (i32.const 0xffff0000) (i32.const 0x20000)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0x10003)) (i32.const 0x55))
;; Unmapping frees the pages (they read as unmapped), exactly the range;
;; unmapping unmapped pages is fine.
(assert_return (invoke "unmap" (i32.const 0x20000) (i32.const 0x10000)))
(assert_trap (invoke "load8" (i32.const 0x20000)) "access denied")
(assert_trap (invoke "load8" (i32.const 0x2ffff)) "access denied")
(assert_return (invoke "load8" (i32.const 0x1ffff)) (i32.const 0x22))
(assert_return (invoke "load8" (i32.const 0x30000)) (i32.const 0))
(assert_return (invoke "unmap" (i32.const 0) (i32.const 0x40000)))
(assert_trap (invoke "load8" (i32.const 0x10003)) "access denied")
(assert_trap (invoke "load8" (i32.const 0x3ffff)) "access denied")
(assert_trap (invoke "discard" (i32.const 0x10000) (i32.const 0x10000)) "access denied")
(assert_trap (invoke "protect" (i32.const 0x10000) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: not mapped")
(assert_return (invoke "unmap" (i32.const 0) (i32.const 0x40000)))
;; Mapped again: fresh zero pages.
(assert_return (invoke "map" (i32.const 0) (i32.const 0x40000) (i32.const 3)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x10003)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x3ffff)) (i32.const 0))
(assert_return (invoke "store32" (i32.const 0x1fffe) (i32.const 0x01020304)))
(assert_return (invoke "load8" (i32.const 0x20001)) (i32.const 1))

;; Data segments map the pages they touch read-write at instantiation (two
;; segments may share a page); the other pages stay unmapped.
(module
  (import "memory-control" "map" (func $map (param i32 i32 i32) (result i32)))
  (import "memory-control" "protect" (func $protect (param i32 i32 i32)))
  (memory 4 4)
  (@custom "memory-control" "memory 0 virtual")
  (data (i32.const 0x10005) "abc")
  (data (i32.const 0x10100) "def")
  (data (i32.const 0x2fffe) "wxyz")
  (data (i32.const 0x30000) "")
  (func (export "map") (param i32 i32 i32) (result i32) (call $map (local.get 0) (local.get 1) (local.get 2)))
  (func (export "protect") (param i32 i32 i32) (call $protect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
)
(assert_trap (invoke "load8" (i32.const 0)) "access denied")
(assert_trap (invoke "load8" (i32.const 0xffff)) "access denied")
(assert_return (invoke "load8" (i32.const 0x10005)) (i32.const 0x61))
(assert_return (invoke "load8" (i32.const 0x10102)) (i32.const 0x66))
(assert_return (invoke "load8" (i32.const 0x1ffff)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 0x2fffe)) (i32.const 0x77))
(assert_return (invoke "load8" (i32.const 0x30001)) (i32.const 0x7a))
(assert_return (invoke "load8" (i32.const 0x3ffff)) (i32.const 0))
(assert_return (invoke "store8" (i32.const 0x3ffff) (i32.const 1)))
(assert_trap (invoke "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: already mapped")
(assert_return (invoke "map" (i32.const 0) (i32.const 0x10000) (i32.const 3)) (i32.const 0))
(assert_return (invoke "protect" (i32.const 0) (i32.const 0x40000) (i32.const 1)))
(assert_trap (invoke "store8" (i32.const 0x10005) (i32.const 1)) "access denied")
(assert_return (invoke "load8" (i32.const 0x10006)) (i32.const 0x62))

;; A segment past the end fails instantiation with "out of bounds".
(assert_trap
  (module
    (memory 2 2)
    (@custom "memory-control" "memory 0 virtual")
    (data (i32.const 0x1ffff) "ab"))
  "out of bounds memory access")

;; map_handle needs a grant from the host; without one: "not granted",
;; after the earlier checks (which include the file offset's alignment).
(module
  (import "memory-control" "map_handle" (func $map_handle (param i32 i32 i32 i32 i64) (result i32)))
  (import "memory-control" "map" (func $map (param i32 i32 i32) (result i32)))
  (memory 2 2)
  (@custom "memory-control" "memory 0 virtual")
  (func (export "map_handle") (param i32 i32 i32 i32 i64) (result i32)
    (call $map_handle (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "map") (param i32 i32 i32) (result i32) (call $map (local.get 0) (local.get 1) (local.get 2)))
)
(assert_trap (invoke "map_handle" (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 0) (i64.const 1)) "memory-control request refused: bad prot")
(assert_trap (invoke "map_handle" (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0) (i64.const 1)) "memory-control request refused: zero size")
(assert_trap (invoke "map_handle" (i32.const 0) (i32.const 0x10000) (i32.const 1) (i32.const 0) (i64.const 1)) "memory-control request refused: unaligned")
(assert_trap (invoke "map_handle" (i32.const 0) (i32.const 0x10000) (i32.const 1) (i32.const 0) (i64.const 0x8000)) "memory-control request refused: unaligned")
(assert_trap (invoke "map_handle" (i32.const 0x10000) (i32.const 0x20000) (i32.const 1) (i32.const 0) (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "map_handle" (i32.const 0) (i32.const 0x10000) (i32.const 1) (i32.const 0) (i64.const 0)) "memory-control request refused: not granted")
(assert_trap (invoke "map_handle" (i32.const 0) (i32.const 0x10000) (i32.const 1) (i32.const -1) (i64.const 0)) "memory-control request refused: not granted")
(assert_return (invoke "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const 3)) (i32.const 0x10000))
(assert_trap (invoke "map_handle" (i32.const 0) (i32.const 0x20000) (i32.const 1) (i32.const 0) (i64.const 0)) "memory-control request refused: already mapped")

;; memory N (map@1 ...) and memory64, high addresses, through tables too.
(module
  (import "memory-control" "map@1" (func $map1 (param i64 i64 i32) (result i64)))
  (import "memory-control" "unmap@1" (func $unmap1 (param i64 i64)))
  (import "memory-control" "protect@1" (func $protect1 (param i64 i64 i32)))
  (memory $m0 1)
  (memory $m1 i64 16 16)
  (@custom "memory-control" "memory 1 virtual")
  (type $map_t (func (param i64 i64 i32) (result i64)))
  (table funcref (elem $map1))
  (func (export "map1") (param i64 i64 i32) (result i64) (call $map1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "map1_indirect") (param i64 i64 i32) (result i64)
    (call_indirect (type $map_t) (local.get 0) (local.get 1) (local.get 2) (i32.const 0)))
  (func (export "unmap1") (param i64 i64) (call $unmap1 (local.get 0) (local.get 1)))
  (func (export "protect1") (param i64 i64 i32) (call $protect1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load0") (param i32) (result i32) (i32.load8_u $m0 (local.get 0)))
  (func (export "load1") (param i64) (result i32) (i32.load8_u $m1 (local.get 0)))
  (func (export "store1") (param i64 i32) (i32.store8 $m1 (local.get 0) (local.get 1)))
  (func (export "size1") (result i64) (memory.size $m1))
  (func (export "grow1") (param i64) (result i64) (memory.grow $m1 (local.get 0)))
)
(assert_return (invoke "load0" (i32.const 0)) (i32.const 0))
(assert_return (invoke "size1") (i64.const 16))
(assert_return (invoke "grow1" (i64.const 1)) (i64.const -1))
(assert_trap (invoke "load1" (i64.const 0xf0000)) "access denied")
(assert_trap (invoke "load1" (i64.const 0x100000)) "out of bounds memory access")
(assert_trap (invoke "map1" (i64.const 0xf0000) (i64.const 0x10000) (i32.const 6)) "memory-control request refused: bad prot")
(assert_trap (invoke "map1" (i64.const 0xf0000) (i64.const 0x20000) (i32.const 3)) "out of bounds memory access")
(assert_trap (invoke "map1" (i64.const 0xffffffffffff0000) (i64.const 0x20000) (i32.const 3)) "out of bounds memory access")
(assert_trap (invoke "map1" (i64.const 0x100000000f0000) (i64.const 0x10000) (i32.const 3)) "out of bounds memory access")
(assert_trap (invoke "map1" (i64.const 0xf0000) (i64.const 0x10001) (i32.const 3)) "memory-control request refused: unaligned")
(assert_return (invoke "map1" (i64.const 0xf0000) (i64.const 0x10000) (i32.const 3)) (i64.const 0xf0000))
(assert_return (invoke "store1" (i64.const 0xfffff) (i32.const 9)))
(assert_return (invoke "load1" (i64.const 0xfffff)) (i32.const 9))
(assert_trap (invoke "load1" (i64.const 0xeffff)) "access denied")
(assert_return (invoke "map1_indirect" (i64.const 0) (i64.const 0x20000) (i32.const 1)) (i64.const 0))
(assert_trap (invoke "map1_indirect" (i64.const 0x10000) (i64.const 0x10000) (i32.const 1)) "memory-control request refused: already mapped")
(assert_return (invoke "load1" (i64.const 0x1ffff)) (i32.const 0))
(assert_trap (invoke "store1" (i64.const 0) (i32.const 1)) "access denied")
(assert_trap (invoke "protect1" (i64.const 0) (i64.const 0x30000) (i32.const 3)) "memory-control request refused: not mapped")
(assert_return (invoke "protect1" (i64.const 0) (i64.const 0x20000) (i32.const 3)))
(assert_return (invoke "store1" (i64.const 0) (i32.const 1)))
(assert_return (invoke "unmap1" (i64.const 0) (i64.const 0x100000)))
(assert_trap (invoke "load1" (i64.const 0)) "access denied")
(assert_trap (invoke "load1" (i64.const 0xfffff)) "access denied")
(assert_return (invoke "load0" (i32.const 0)) (i32.const 0))

;; A 16 GiB memory64 virtual memory costs nothing until pages are mapped.
(module
  (import "memory-control" "map" (func $map (param i64 i64 i32) (result i64)))
  (memory i64 262144 262144)
  (@custom "memory-control" "memory 0 virtual")
  (func (export "map") (param i64 i64 i32) (result i64) (call $map (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i64) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i64 i32) (i32.store8 (local.get 0) (local.get 1)))
)
(assert_trap (invoke "load8" (i64.const 0x3ffffffff)) "access denied")
(assert_return (invoke "map" (i64.const 0x3ffff0000) (i64.const 0x10000) (i32.const 3)) (i64.const 0x3ffff0000))
(assert_return (invoke "store8" (i64.const 0x3ffffffff) (i32.const 7)))
(assert_return (invoke "load8" (i64.const 0x3ffffffff)) (i32.const 7))
(assert_trap (invoke "load8" (i64.const 0x400000000)) "out of bounds memory access")
(assert_trap (invoke "map" (i64.const 0x400000000) (i64.const 0x10000) (i32.const 3)) "out of bounds memory access")

;; The mapping budget: mapping every other page of a 4 GiB virtual memory
;; runs out of kernel mappings long before the end. Then map returns -1,
;; unmap and protect that would split a mapping are refused "out of
;; resources", nothing changes, and the instance stays usable.
(module
  (import "memory-control" "map" (func $map (param i32 i32 i32) (result i32)))
  (import "memory-control" "unmap" (func $unmap (param i32 i32)))
  (import "memory-control" "protect" (func $protect (param i32 i32 i32)))
  (memory 65536 65536)
  (@custom "memory-control" "memory 0 virtual")
  ;; Maps pages 4, 6, 8, ... until map returns -1; returns 1 if it did.
  (func (export "exhaust") (result i32) (local $a i32)
    (local.set $a (i32.const 0x40000))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $a)))
        (if (i32.eq (call $map (local.get $a) (i32.const 0x10000) (i32.const 3)) (i32.const -1))
          (then (return (i32.const 1))))
        (local.set $a (i32.add (local.get $a) (i32.const 0x20000)))
        (br $next)))
    (i32.const 0))
  (func (export "map") (param i32 i32 i32) (result i32) (call $map (local.get 0) (local.get 1) (local.get 2)))
  (func (export "unmap") (param i32 i32) (call $unmap (local.get 0) (local.get 1)))
  (func (export "protect") (param i32 i32 i32) (call $protect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
)
;; Pages 0-2: one mapping; page 1 holds a value.
(assert_return (invoke "map" (i32.const 0) (i32.const 0x30000) (i32.const 3)) (i32.const 0))
(assert_return (invoke "store8" (i32.const 0x10000) (i32.const 42)))
(assert_return (invoke "exhaust") (i32.const 1))
(assert_return (invoke "map" (i32.const 0xfff00000) (i32.const 0x10000) (i32.const 3)) (i32.const -1))
(assert_trap (invoke "load8" (i32.const 0xfff00000)) "access denied")
(assert_trap (invoke "unmap" (i32.const 0x10000) (i32.const 0x10000)) "memory-control request refused: out of resources")
(assert_trap (invoke "protect" (i32.const 0x10000) (i32.const 0x10000) (i32.const 1)) "memory-control request refused: out of resources")
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 42))
(assert_return (invoke "store8" (i32.const 0x10000) (i32.const 43)))
(assert_return (invoke "load8" (i32.const 0x40000)) (i32.const 0))
;; Operations that do not add mappings still work; unmapping everything
;; gives the budget back.
(assert_return (invoke "protect" (i32.const 0) (i32.const 0x30000) (i32.const 1)))
(assert_return (invoke "load8" (i32.const 0x10000)) (i32.const 43))
(assert_return (invoke "unmap" (i32.const 0x30000) (i32.const 0xfffd0000)))
(assert_return (invoke "unmap" (i32.const 0x10000) (i32.const 0x10000)))
(assert_return (invoke "map" (i32.const 0xfff00000) (i32.const 0x10000) (i32.const 3)) (i32.const 0xfff00000))
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))

;; Importers see the exporter's page states (the attributes are part of the
;; memory's type).
(module $exp
  (import "memory-control" "map" (func $map (param i32 i32 i32) (result i32)))
  (memory (export "m") 2 2)
  (@custom "memory-control" "memory 0 virtual")
  (func (export "map") (param i32 i32 i32) (result i32) (call $map (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(register "virt" $exp)
(module
  (import "virt" "m" (memory 2 2))
  (@custom "memory-control" "memory 0 virtual")
  (import "memory-control" "protect" (func $protect (param i32 i32 i32)))
  (data (i32.const 0x10000) "\05")
  (func (export "protect") (param i32 i32 i32) (call $protect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
)
(assert_return (invoke $exp "load8" (i32.const 0x10000)) (i32.const 5))
(assert_trap (invoke $exp "load8" (i32.const 0)) "access denied")
(assert_return (invoke "protect" (i32.const 0x10000) (i32.const 0x10000) (i32.const 1)))
(assert_trap (invoke "store8" (i32.const 0x10000) (i32.const 1)) "access denied")
(assert_trap (invoke $exp "map" (i32.const 0x10000) (i32.const 0x10000) (i32.const 3)) "memory-control request refused: already mapped")
(assert_unlinkable
  (module (import "virt" "m" (memory 2 2)))
  "incompatible import type")

;; Compile errors: a virtual memory needs min == max, the operations need a
;; virtual memory, and their signatures are checked.
(assert_invalid
  (module (memory 1 2) (@custom "memory-control" "memory 0 virtual"))
  "min == max")
(assert_invalid
  (module (memory 1) (@custom "memory-control" "memory 0 virtual"))
  "min == max")
(assert_invalid
  (module (import "memory-control" "map" (func (param i32 i32 i32) (result i32))) (memory 1 1))
  "not virtual")
(assert_invalid
  (module
    (import "memory-control" "protect" (func (param i32 i32 i32) (result i32)))
    (memory 1 1) (@custom "memory-control" "memory 0 virtual"))
  "wrong signature")
(assert_invalid
  (module
    (import "memory-control" "map_handle" (func (param i32 i32 i32 i32 i32) (result i32)))
    (memory 1 1) (@custom "memory-control" "memory 0 virtual"))
  "wrong signature")
