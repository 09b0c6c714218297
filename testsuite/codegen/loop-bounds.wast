;; Loop bounds `x + c` (compiler/src/hoist.rs): Cranelift computes an
;; addition of a constant again in every block that uses it; when an
;; innermost loop compares with one whose `x` comes from outside the loop,
;; it is computed once before the loop instead. The bound must keep its
;; value, wrapping included, at both widths, whichever side of the compare
;; it is on.

(module
  ;; j = start, start + step, ... while j <u n + 0x100_0000: the count.
  (func (export "count64") (param $n i64) (param $start i64) (param $step i64) (result i64)
    (local $j i64) (local $k i64)
    (local.set $j (local.get $start))
    (block $done
      (loop $l
        (br_if $done (i64.ge_u (local.get $j) (i64.add (local.get $n) (i64.const 0x1000000))))
        (local.set $k (i64.add (local.get $k) (i64.const 1)))
        (local.set $j (i64.add (local.get $j) (local.get $step)))
        (br $l)))
    (local.get $k))

  ;; The same in i32 with the bound on the left: while n - 1 >u j.
  (func (export "count32") (param $n i32) (param $start i32) (param $step i32) (result i32)
    (local $j i32) (local $k i32)
    (local.set $j (local.get $start))
    (block $done
      (loop $l
        (br_if $done (i32.le_u (i32.add (local.get $n) (i32.const -1)) (local.get $j)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (local.set $j (i32.add (local.get $j) (local.get $step)))
        (br $l)))
    (local.get $k))

  ;; An outer loop around it: the bound depends on the outer counter, so
  ;; it is computed once per outer iteration. Sum of the inner counts for
  ;; i = 0..n-1 of #{j : 0 <= j < i + 3, step 2}.
  (func (export "nested") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $k i32)
    (loop $outer
      (local.set $j (i32.const 0))
      (block $done
        (loop $inner
          (br_if $done (i32.ge_s (local.get $j) (i32.add (local.get $i) (i32.const 3))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (local.set $j (i32.add (local.get $j) (i32.const 2)))
          (br $inner)))
      (br_if $outer (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $k))
)

(assert_return (invoke "count64" (i64.const 0) (i64.const 0) (i64.const 0x100000)) (i64.const 16))
;; n + 0x100_0000 wraps to 5.
(assert_return (invoke "count64" (i64.const -0xfffffb) (i64.const 0) (i64.const 1)) (i64.const 5))
;; ... to 0: no iteration.
(assert_return (invoke "count64" (i64.const -0x1000000) (i64.const 0) (i64.const 1)) (i64.const 0))
;; n - 1 wraps to 0xffff_ffff: j = 0xffff_fff0 .. 0xffff_fffe.
(assert_return (invoke "count32" (i32.const 0) (i32.const 0xfffffff0) (i32.const 1)) (i32.const 15))
(assert_return (invoke "count32" (i32.const 10) (i32.const 0) (i32.const 3)) (i32.const 3))
(assert_return (invoke "count32" (i32.const 1) (i32.const 0) (i32.const 1)) (i32.const 0))
;; i = 0..4: ceil((i + 3) / 2) = 2, 2, 3, 3, 4.
(assert_return (invoke "nested" (i32.const 5)) (i32.const 14))
