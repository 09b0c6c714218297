;; One worker instance per thread, all importing one shared memory:
;;
;;   page 0      counters (one i32 per worker at 4*id, and `done` at 0x100)
;;   page 1      the host's sentinel pattern: nothing here ever writes it
;;   pages 2-15  scratch, discarded over and over by another host thread
(module
  (import "env" "memory" (memory 16 16 shared))

  ;; Adds 1 to counter `id` `n` times; between increments, touches the
  ;; scratch pages (an atomic add and a plain load whose values are lost
  ;; whenever a discard zeroes them). Then bumps `done` and wakes waiters.
  (func (export "run") (param $id i32) (param $n i32)
    (local $i i32) (local $scratch i32)
    (local.set $scratch
      (i32.add (i32.const 0x20000) (i32.mul (local.get $id) (i32.const 0x1004))))
    (block $out
      (loop $next
        (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (drop (i32.atomic.rmw.add (i32.shl (local.get $id) (i32.const 2)) (i32.const 1)))
        (drop (i32.atomic.rmw.add (local.get $scratch) (i32.const 1)))
        (drop (i64.load (i32.add (local.get $scratch) (i32.const 8))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (drop (i32.atomic.rmw.add (i32.const 0x100) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0x100) (i32.const -1))))

  ;; Blocks (memory.atomic.wait32) until `done` reaches $want; returns how
  ;; many times it was woken.
  (func (export "wait_done") (param $want i32) (result i32)
    (local $seen i32) (local $woken i32)
    (block $out
      (loop $again
        (local.set $seen (i32.atomic.load (i32.const 0x100)))
        (br_if $out (i32.ge_u (local.get $seen) (local.get $want)))
        (if (i32.eqz (memory.atomic.wait32 (i32.const 0x100) (local.get $seen) (i64.const -1)))
          (then (local.set $woken (i32.add (local.get $woken) (i32.const 1)))))
        (br $again)))
    (local.get $woken))

  ;; wait on a value that is not there: 1 ("not equal"); a short timeout: 2.
  (func (export "wait_checks") (result i32)
    (i32.add
      (i32.mul (memory.atomic.wait32 (i32.const 0x100) (i32.const -1) (i64.const -1)) (i32.const 10))
      (memory.atomic.wait64 (i32.const 0x108) (i64.const 0) (i64.const 1000000))))

  ;; A misaligned atomic traps cleanly.
  (func (export "unaligned") (result i32)
    (i32.atomic.load (i32.const 0x101))))
