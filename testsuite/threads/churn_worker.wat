;; One instance per thread of the churn test (churn.c), all importing one
;; shared virtual memory:
;;
;;   page 0       counters (one i32 per worker at 4*id), epoch cells 0x200/0x204
;;   page 1       the host's sentinel pattern, read-write; nobody writes it
;;   pages 4-11   the churn region: mapped, protected, unmapped, discarded
;;                and covered with a host buffer by another thread, while
;;                the workers load, store, fill and do atomics there
;;   page 12      stamps (one i32 per worker at 0xc0000 + 0x1000*id)
;;   page 13      a second sentinel, read-only
;;   pages 14-15  unmapped, and must stay so
(module
  (import "env" "memory" (memory 16 16 shared))
  (@custom "memory-control" "memory 0 virtual")
  (import "memory-control" "map" (func $map (param i32 i32 i32) (result i32)))
  (import "memory-control" "unmap" (func $unmap (param i32 i32)))
  (import "memory-control" "protect" (func $protect (param i32 i32 i32)))
  (import "memory-control" "discard" (func $discard (param i32 i32)))

  ;; Never traps: page 0 is never churned.
  (func (export "bump") (param $id i32)
    (drop (i32.atomic.rmw.add (i32.shl (local.get $id) (i32.const 2)) (i32.const 1))))
  (func (export "stamp") (param $id i32) (param $v i32)
    (i32.atomic.store
      (i32.add (i32.const 0xc0000) (i32.shl (local.get $id) (i32.const 12)))
      (local.get $v)))

  ;; Accesses of the churn region: each completes or traps "access denied".
  (func (export "load") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "store") (param $a i32) (param $v i32) (i32.store (local.get $a) (local.get $v)))
  (func (export "rmw") (param $a i32) (result i32) (i32.atomic.rmw.add (local.get $a) (i32.const 1)))
  (func (export "cmpxchg") (param $a i32) (result i32)
    (i32.atomic.rmw.cmpxchg (local.get $a) (i32.const 0) (i32.const 1)))
  (func (export "fill") (param $a i32) (param $n i32) (memory.fill (local.get $a) (i32.const 0x5a) (local.get $n)))
  (func (export "copy") (param $d i32) (param $s i32) (param $n i32)
    (memory.copy (local.get $d) (local.get $s) (local.get $n)))

  ;; The guest's memory-control, for the churning thread.
  (func (export "map") (param i32 i32 i32) (result i32) (call $map (local.get 0) (local.get 1) (local.get 2)))
  (func (export "unmap") (param i32 i32) (call $unmap (local.get 0) (local.get 1)))
  (func (export "protect") (param i32 i32 i32) (call $protect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "discard") (param i32 i32) (call $discard (local.get 0) (local.get 1)))

  ;; Ordering: `publish` stores $v at $a and wakes every waiter; `await`
  ;; sleeps in memory.atomic.wait32 until the cell at $a reaches $v.
  (func (export "publish") (param $a i32) (param $v i32)
    (i32.atomic.store (local.get $a) (local.get $v))
    (drop (memory.atomic.notify (local.get $a) (i32.const -1))))
  (func (export "await") (param $a i32) (param $v i32)
    (local $seen i32)
    (block $out
      (loop $again
        (local.set $seen (i32.atomic.load (local.get $a)))
        (br_if $out (i32.ge_u (local.get $seen) (local.get $v)))
        (drop (memory.atomic.wait32 (local.get $a) (local.get $seen) (i64.const -1)))
        (br $again)))))
