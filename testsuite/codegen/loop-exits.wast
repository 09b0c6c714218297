;; Loop exit tests on the incremented counter (compiler/src/latch.rs).
;; Cranelift turns `i' = i + k; br_if loop (i' != n)` into a test of
;; `i != n - k`; the late pass turns it back into a test of `i'` with the
;; constant `n - k + k`, in wrapping arithmetic at the counter's width.
;; Each loop below counts its iterations, so a wrong constant (off by the
;; step, not wrapped, or at the wrong width) changes a result or never
;; ends; the counter's final value is returned too where it is used after
;; the loop. The second half covers the increments passed to the next
;; iteration that are written as subtractions (`hide_increments`), with the
;; counter's old value dead, used later, or used after the loop. A loop that misses its exit returns -1 after 100,000
;; iterations instead of running on.

(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00\05\00\00\00\06\00\00\00\07\00\00\00\08\00\00\00\09\00\00\00\0a\00\00\00\0b\00\00\00\0c\00\00\00\0d\00\00\00\0e\00\00\00\0f\00\00\00\10\00\00\00\11\00\00\00")
  ;; clang's shape: step 8 up to a constant, exit when equal.
  (func (export "up8") (result i32)
    (local $i i32) (local $n i32)
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.gt_u (local.get $n) (i32.const 100000)) (then (return (i32.const -1))))
      (br_if $l (i32.ne
        (local.tee $i (i32.add (local.get $i) (i32.const 8)))
        (i32.const 2560))))
    (local.get $n))

  ;; The counter wraps to 0: the test's constant is 0 - 1 + 1.
  (func (export "wrap32") (result i32)
    (local $i i32) (local $n i32)
    (local.set $i (i32.const 0xfffffff0))
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.gt_u (local.get $n) (i32.const 100000)) (then (return (i32.const -1))))
      (br_if $l (i32.ne
        (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (i32.const 0))))
    (local.get $n))

  ;; Across the sign boundary with a large step.
  (func (export "signed-boundary") (result i32)
    (local $i i32) (local $n i32)
    (local.set $i (i32.const 0x7ffffff0))
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.gt_u (local.get $n) (i32.const 100000)) (then (return (i32.const -1))))
      (br_if $l (i32.ne
        (local.tee $i (i32.add (local.get $i) (i32.const 0x10)))
        (i32.const 0x80000030))))
    (local.get $n))

  ;; Counting down by 3 (the step is a negative constant).
  (func (export "down3") (param $start i32) (result i32)
    (local $i i32) (local $n i32)
    (local.set $i (local.get $start))
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.gt_u (local.get $n) (i32.const 100000)) (then (return (i32.const -1))))
      (br_if $l (i32.ne
        (local.tee $i (i32.sub (local.get $i) (i32.const 3)))
        (i32.const 0))))
    (local.get $n))

  ;; 64-bit counter wrapping through zero: the constant must be masked to
  ;; 64 bits, not 32.
  (func (export "wrap64") (result i64)
    (local $i i64) (local $n i64)
    (local.set $i (i64.const -5))
    (loop $l
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (if (i64.gt_u (local.get $n) (i64.const 100000)) (then (return (i64.const -1))))
      (br_if $l (i64.ne
        (local.tee $i (i64.add (local.get $i) (i64.const 1)))
        (i64.const 0))))
    (local.get $n))

  ;; 64-bit counter past 2^32: a 32-bit constant would never match.
  (func (export "up64") (result i64)
    (local $i i64) (local $n i64)
    (local.set $i (i64.const 0xfffffffa))
    (loop $l
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (if (i64.gt_u (local.get $n) (i64.const 100000)) (then (return (i64.const -1))))
      (br_if $l (i64.ne
        (local.tee $i (i64.add (local.get $i) (i64.const 2)))
        (i64.const 0x100000004))))
    (local.get $n))

  ;; Exit on equality: the loop continues on the branch's false edge.
  (func (export "exit-eq") (result i32)
    (local $i i32) (local $n i32)
    (block $done
      (loop $l
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $done (i32.eq
          (local.tee $i (i32.add (local.get $i) (i32.const 4)))
          (i32.const 400)))
        (br $l)))
    (local.get $n))

  ;; The counter before the increment is used after the loop, so both
  ;; values are live at the test.
  (func (export "old-used-after") (result i64)
    (local $i i32) (local $prev i32) (local $n i32)
    (loop $l
      (local.set $prev (local.get $i))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.gt_u (local.get $n) (i32.const 100000)) (then (return (i64.const -1))))
      (br_if $l (i32.ne
        (local.tee $i (i32.add (local.get $i) (i32.const 5)))
        (i32.const 100))))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $prev)) (i64.const 32))
      (i64.extend_i32_u (local.get $n))))

  ;; The exit constant comes from a parameter: not a constant test, left
  ;; alone, still right.
  (func (export "up-to") (param $limit i32) (result i32)
    (local $i i32) (local $n i32)
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.gt_u (local.get $n) (i32.const 100000)) (then (return (i32.const -1))))
      (br_if $l (i32.ne
        (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (local.get $limit))))
    (local.get $n))

  ;; fib as clang compiles it: one recursive call in a loop, the exit
  ;; value `n' + acc` computed from the decremented counter.
  (func $fib (export "fib") (param $n i32) (result i32)
    (local $acc i32)
    (if (i32.lt_u (local.get $n) (i32.const 2)) (then (return (local.get $n))))
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (call $fib (i32.add (local.get $n) (i32.const -1)))))
      (local.set $n (i32.add (local.get $n) (i32.const -2)))
      (br_if $l (i32.gt_u (local.get $n) (i32.const 1))))
    (i32.add (local.get $n) (local.get $acc)))

  ;; The old counter is read after the increment in the same iteration:
  ;; it does not die at the addition.
  (func (export "old-read-later") (result i32)
    (local $i i32) (local $next i32) (local $s i32)
    (loop $l
      (local.set $next (i32.add (local.get $i) (i32.const 3)))
      (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 7)) (local.get $i)))
      (local.set $i (local.get $next))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 40))))
    (i32.add (local.get $s) (local.get $i)))

  ;; Steps whose negation is itself: -2^31 at 32 bits, -2^63 at 64 bits.
  (func (export "half-turn32") (param $i i32) (result i32)
    (local $n i32)
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 0x80000000)))
      (br_if $l (i32.lt_u (local.get $n) (i32.const 3))))
    (local.get $i))
  (func (export "half-turn64") (param $i i64) (result i64)
    (local $n i32)
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $i (i64.add (local.get $i) (i64.const 0x8000000000000000)))
      (br_if $l (i32.lt_u (local.get $n) (i32.const 3))))
    (local.get $i))

  ;; A pointer walk with a negative step and loads relative to the
  ;; stepped pointer, its value used after the loop.
  (func (export "walk-down") (result i32)
    (local $p i32) (local $s i32)
    (local.set $p (i32.const 64))
    (loop $l
      (local.set $p (i32.add (local.get $p) (i32.const -4)))
      (local.set $s (i32.add (local.get $s) (i32.load offset=4 (local.get $p))))
      (br_if $l (i32.ne (local.get $p) (i32.const 0))))
    (i32.add (i32.mul (local.get $s) (i32.const 1000)) (local.get $p)))

  ;; The old counter after the loop, in an addition (`x + c` becomes
  ;; `new + (c - k)`) and in a multiplication (it reads `new - k`,
  ;; computed after the exit).
  (func (export "after-exit") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (local.set $s (i32.add (local.get $s) (local.get $i)))
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        ;; i' = i + 7 is computed before the test in clang's rotated form.
        (local.set $i (i32.add (local.get $i) (i32.const 7)))
        (br $l)))
    (i32.add (i32.mul (local.get $i) (i32.const 1000))
      (i32.add (local.get $s) (i32.add (local.get $i) (i32.const 3)))))

  ;; A rotated search loop, as clang writes `while (v[i] < key) i++`: the
  ;; incremented counter goes round, the old one leaves.
  (func (export "search") (param $key i32) (result i32)
    (local $i i32) (local $next i32)
    (loop $l
      (local.set $next (i32.add (local.get $i) (i32.const 1)))
      (if (i32.lt_u (i32.load offset=4 (i32.shl (local.get $i) (i32.const 2)))
                    (local.get $key))
        (then (local.set $i (local.get $next)) (br $l))))
    (i32.add (i32.mul (local.get $i) (i32.const 100)) (local.get $i)))

  ;; Additions of a constant to the old counter after the increment, in
  ;; the same iteration (here `i + 9`, placed after `i + 4` by Cranelift):
  ;; they read the new one minus the step.
  (func (export "same-block") (result i32)
    (local $i i32) (local $s i32) (local $next i32)
    (loop $l
      (local.set $next (i32.add (local.get $i) (i32.const 4)))
      (local.set $s (i32.xor (i32.mul (local.get $s) (i32.const 31))
        (i32.xor (i32.add (local.get $i) (i32.const 9))
                 (i32.load8_u (i32.add (local.get $i) (i32.const 1))))))
      (local.set $i (local.get $next))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))
    (local.get $s))

  ;; Two exits meeting in one block that reads the old counter: no exit
  ;; is reached from the increment's block alone.
  (func (export "two-exits") (param $stop i32) (result i32)
    (local $i i32) (local $next i32)
    (block $out
      (loop $l
        (br_if $out (i32.eq (local.get $i) (local.get $stop)))
        (local.set $next (i32.add (local.get $i) (i32.const 2)))
        (br_if $out (i32.ge_u (local.get $next) (i32.const 50)))
        (local.set $i (local.get $next))
        (br $l)))
    (i32.mul (local.get $i) (i32.const 3)))

  ;; 64-bit: the step and the constant of the addition after the exit
  ;; need all 64 bits.
  (func (export "after-exit64") (result i64)
    (local $i i64) (local $n i32)
    (local.set $i (i64.const 0x7ffffffff0))
    (block $done
      (loop $l
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $done (i32.ge_u (local.get $n) (i32.const 5)))
        (local.set $i (i64.add (local.get $i) (i64.const 0x100000001)))
        (br $l)))
    (i64.add (local.get $i) (i64.const 0x123456789)))

  ;; Two nested counted loops, sums of products, as in matmul.
  (func (export "nested") (result i32)
    (local $i i32) (local $j i32) (local $s i32)
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $s (i32.add (local.get $s)
          (i32.mul (local.get $i) (local.get $j))))
        (br_if $inner (i32.ne
          (local.tee $j (i32.add (local.get $j) (i32.const 1)))
          (i32.const 10))))
      (br_if $outer (i32.ne
        (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (i32.const 20))))
    (local.get $s))
)

(assert_return (invoke "up8") (i32.const 320))
(assert_return (invoke "wrap32") (i32.const 16))
(assert_return (invoke "signed-boundary") (i32.const 4))
(assert_return (invoke "down3" (i32.const 30)) (i32.const 10))
(assert_return (invoke "down3" (i32.const 3)) (i32.const 1))
(assert_return (invoke "wrap64") (i64.const 5))
(assert_return (invoke "up64") (i64.const 5))
(assert_return (invoke "exit-eq") (i32.const 100))
(assert_return (invoke "old-used-after") (i64.const 0x5f00000014))
(assert_return (invoke "up-to" (i32.const 7)) (i32.const 7))
(assert_return (invoke "up-to" (i32.const 1)) (i32.const 1))
(assert_return (invoke "nested") (i32.const 8550))
(assert_return (invoke "fib" (i32.const 0)) (i32.const 0))
(assert_return (invoke "fib" (i32.const 1)) (i32.const 1))
(assert_return (invoke "fib" (i32.const 2)) (i32.const 1))
(assert_return (invoke "fib" (i32.const 3)) (i32.const 2))
(assert_return (invoke "fib" (i32.const 20)) (i32.const 6765))
(assert_return (invoke "fib" (i32.const 25)) (i32.const 75025))
(assert_return (invoke "old-read-later") (i32.const 0x28c53bff))
(assert_return (invoke "half-turn32" (i32.const 5)) (i32.const 0x80000005))
(assert_return (invoke "half-turn64" (i64.const 5)) (i64.const 0x8000000000000005))
(assert_return (invoke "walk-down") (i32.const 152000))
(assert_return (invoke "after-exit" (i32.const 0)) (i32.const 3))
(assert_return (invoke "after-exit" (i32.const 20)) (i32.const 21066))
(assert_return (invoke "search" (i32.const 5)) (i32.const 303))
(assert_return (invoke "search" (i32.const 1)) (i32.const 0))
(assert_return (invoke "search" (i32.const 15)) (i32.const 1313))
(assert_return (invoke "same-block") (i32.const 0xf3b13ea))
(assert_return (invoke "two-exits" (i32.const 6)) (i32.const 18))
(assert_return (invoke "two-exits" (i32.const 7)) (i32.const 144))
(assert_return (invoke "after-exit64") (i64.const 0x852345677d))
